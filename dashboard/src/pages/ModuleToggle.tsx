import { useState } from "react";
import { Alert } from "../components/ui/alert";
import { Button } from "../components/ui/button";
import { Dialog, DialogClose, DialogContent, DialogDescription, DialogFooter, DialogTitle, DialogTrigger } from "../components/ui/dialog";
import { ApiFailure, api } from "../lib/api";
import type { AdminModule } from "../lib/types";

/** Enable or disable, after a confirmation dialog (POST /api/admin/modules/<name>/enable|disable). */
export function ModuleToggle({ module, onDone }: { module: AdminModule; onDone: () => void }) {
  const [open, setOpen] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const disabling = module.status !== "disabled";
  const verb = disabling ? "Disable" : "Enable";

  const confirm = async () => {
    setBusy(true);
    setError(null);
    try {
      await api("POST", `/api/admin/modules/${encodeURIComponent(module.name)}/${disabling ? "disable" : "enable"}`);
      setOpen(false);
      onDone();
    } catch (failure) {
      setError(failure instanceof ApiFailure ? failure.message : String(failure));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog open={open} onOpenChange={setOpen}>
      <DialogTrigger asChild>
        <Button variant={disabling ? "outline" : "default"} size="sm" data-testid={`toggle-${module.name}`}>
          {verb}
        </Button>
      </DialogTrigger>
      <DialogContent>
        <DialogTitle>
          {verb} {module.name}?
        </DialogTitle>
        <DialogDescription>
          {disabling
            ? `Every host stops serving ${module.name} ${module.version} within a second; its files and data stay. Its dashboard views go from every user's navigation.`
            : `${module.name} ${module.version} is validated again, then every host starts serving it (lifting any quarantine).`}
        </DialogDescription>
        {error ? <Alert tone="danger">{error}</Alert> : null}
        <DialogFooter>
          <DialogClose asChild>
            <Button variant="ghost">Cancel</Button>
          </DialogClose>
          <Button variant={disabling ? "destructive" : "default"} onClick={confirm} disabled={busy} data-testid="confirm">
            {verb}
          </Button>
        </DialogFooter>
      </DialogContent>
    </Dialog>
  );
}
