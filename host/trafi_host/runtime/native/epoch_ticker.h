/* The engine's epoch ticker, a C thread without the GIL (epoch_ticker.c), in the _boundary module. */
#ifndef TRAFI_EPOCH_TICKER_H
#define TRAFI_EPOCH_TICKER_H

#include <Python.h>

/* Resolves the engine functions from libwasmtime's dlopen handle; -1 with an exception set. */
int trafi_ticker_resolve(void *handle);
/* ticker_start(engine address, tick in microseconds) -> capsule */
PyObject *trafi_ticker_start(PyObject *self, PyObject *args);
/* ticker_stop(capsule): stops and joins the thread (idempotent) */
PyObject *trafi_ticker_stop(PyObject *self, PyObject *capsule);

#endif
