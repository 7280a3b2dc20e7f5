/*
 * The engine's epoch ticker as a C thread that never takes the GIL.
 *
 * Store deadlines are counted in epoch ticks. A Python thread ticking every 5 ms had to take the
 * GIL for each tick (twice: its wait and its ctypes call), so on a busy host every tick forced
 * the thread holding the GIL to hand it over (a switch, 200 a second), and a tick waiting for
 * the GIL came late, which stretched every deadline by as much. This thread only calls
 * `wasmtime_engine_increment_epoch`, which wasmtime documents as safe from any thread.
 *
 * The thread owns a clone of the engine (`wasmtime_engine_clone`, reference counted), deleted
 * when it stops: a ticker never stopped (a process exiting) ticks a live engine, never a freed one.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <time.h>

#include "epoch_ticker.h"

typedef struct wasm_engine_t wasm_engine_t;

static wasm_engine_t *(*engine_clone)(wasm_engine_t *);
static void (*engine_increment_epoch)(wasm_engine_t *);
static void (*engine_delete)(wasm_engine_t *);

#define TICKER_CAPSULE "trafi.epoch_ticker"

typedef struct {
    pthread_t thread;
    pthread_mutex_t mutex;
    pthread_cond_t wake; /* on CLOCK_MONOTONIC: stop() wakes the thread at once */
    int stopping;
    int joined;
    long tick_ns;
    wasm_engine_t *engine; /* the thread's own clone */
} ticker;

int trafi_ticker_resolve(void *handle) {
    *(void **)(&engine_clone) = dlsym(handle, "wasmtime_engine_clone");
    *(void **)(&engine_increment_epoch) = dlsym(handle, "wasmtime_engine_increment_epoch");
    *(void **)(&engine_delete) = dlsym(handle, "wasm_engine_delete");
    if (engine_clone == NULL || engine_increment_epoch == NULL || engine_delete == NULL) {
        PyErr_SetString(PyExc_ImportError, "boundary: libwasmtime lacks the engine epoch functions");
        return -1;
    }
    return 0;
}

static void add_ns(struct timespec *at, long ns) {
    at->tv_nsec += ns;
    while (at->tv_nsec >= 1000000000L) {
        at->tv_nsec -= 1000000000L;
        at->tv_sec += 1;
    }
}

static int before(const struct timespec *a, const struct timespec *b) {
    return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

static void *run(void *argument) {
    ticker *t = argument;
    struct timespec next, now;
    clock_gettime(CLOCK_MONOTONIC, &next);
    pthread_mutex_lock(&t->mutex);
    while (!t->stopping) {
        add_ns(&next, t->tick_ns);
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (before(&next, &now)) {
            /* Woken late (a paused machine): tick once and start counting again from now, as a
               thread sleeping one tick at a time would, rather than a burst of missed ticks. */
            next = now;
        }
        while (!t->stopping) {
            int waited = pthread_cond_timedwait(&t->wake, &t->mutex, &next);
            if (waited == ETIMEDOUT)
                break;
        }
        if (t->stopping)
            break;
        engine_increment_epoch(t->engine);
    }
    pthread_mutex_unlock(&t->mutex);
    return NULL;
}

static void stop(ticker *t) {
    if (t->joined)
        return;
    pthread_mutex_lock(&t->mutex);
    t->stopping = 1;
    pthread_cond_signal(&t->wake);
    pthread_mutex_unlock(&t->mutex);
    /* The thread never takes the GIL, so joining with it held cannot deadlock. */
    pthread_join(t->thread, NULL);
    t->joined = 1;
    engine_delete(t->engine);
    t->engine = NULL;
}

static void free_ticker(ticker *t) {
    stop(t);
    pthread_cond_destroy(&t->wake);
    pthread_mutex_destroy(&t->mutex);
    PyMem_RawFree(t);
}

static void capsule_destructor(PyObject *capsule) {
    ticker *t = PyCapsule_GetPointer(capsule, TICKER_CAPSULE);
    if (t != NULL)
        free_ticker(t);
}

/* ticker_start(engine address, tick in microseconds) -> capsule; the thread runs until
   ticker_stop(capsule) or the capsule is freed. */
PyObject *trafi_ticker_start(PyObject *self, PyObject *args) {
    PyObject *address_object;
    long tick_us;
    if (!PyArg_ParseTuple(args, "Ol", &address_object, &tick_us))
        return NULL;
    if (engine_clone == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "boundary: init() was not called");
        return NULL;
    }
    wasm_engine_t *engine = PyLong_AsVoidPtr(address_object);
    if (engine == NULL) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_ValueError, "boundary: a null engine");
        return NULL;
    }
    if (tick_us <= 0) {
        PyErr_SetString(PyExc_ValueError, "boundary: the tick must be positive");
        return NULL;
    }
    ticker *t = PyMem_RawCalloc(1, sizeof(ticker));
    if (t == NULL)
        return PyErr_NoMemory();
    t->tick_ns = tick_us * 1000L;
    pthread_condattr_t attributes;
    pthread_condattr_init(&attributes);
    pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC);
    pthread_mutex_init(&t->mutex, NULL);
    pthread_cond_init(&t->wake, &attributes);
    pthread_condattr_destroy(&attributes);
    t->engine = engine_clone(engine);
    int failed = pthread_create(&t->thread, NULL, run, t);
    if (failed) {
        engine_delete(t->engine);
        pthread_cond_destroy(&t->wake);
        pthread_mutex_destroy(&t->mutex);
        PyMem_RawFree(t);
        errno = failed;
        return PyErr_SetFromErrno(PyExc_OSError);
    }
    /* Named here, not by the thread itself, so the name is in place when start returns (as the
       Python thread's is): a thread naming itself races whoever looks at once. */
    pthread_setname_np(t->thread, "trafi-epoch");
    PyObject *capsule = PyCapsule_New(t, TICKER_CAPSULE, capsule_destructor);
    if (capsule == NULL)
        free_ticker(t);
    return capsule;
}

PyObject *trafi_ticker_stop(PyObject *self, PyObject *capsule) {
    ticker *t = PyCapsule_GetPointer(capsule, TICKER_CAPSULE);
    if (t == NULL)
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    stop(t);
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}
