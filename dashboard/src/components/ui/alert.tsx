import { cva, type VariantProps } from "class-variance-authority";
import type { ReactNode } from "react";
import { cn } from "../../lib/cn";

const alert = cva("rounded-lg border p-4 text-sm", {
  variants: {
    tone: {
      info: "border-sky-200 bg-sky-50 text-sky-900",
      success: "border-emerald-200 bg-emerald-50 text-emerald-900",
      warning: "border-amber-200 bg-amber-50 text-amber-900",
      danger: "border-red-200 bg-red-50 text-red-900",
    },
  },
  defaultVariants: { tone: "info" },
});

export type AlertTone = NonNullable<VariantProps<typeof alert>["tone"]>;

export function Alert({
  tone,
  title,
  children,
  className,
  testId,
}: VariantProps<typeof alert> & { title?: string; children?: ReactNode; className?: string; testId?: string }) {
  return (
    <div role="alert" data-testid={testId} className={cn(alert({ tone }), className)}>
      {title ? <p className="mb-1 font-semibold">{title}</p> : null}
      {children}
    </div>
  );
}
