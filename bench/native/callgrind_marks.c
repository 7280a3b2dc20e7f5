/*
 * Callgrind client requests for the instruction-count bench (bench/instructions.py): start()
 * zeroes the counters of every thread, stop(name) dumps what every thread ran since as a profile
 * part named `name`. Collection stays on throughout: callgrind's collect toggle is per thread,
 * and a module call runs on a worker thread, not on the thread that marks the window.
 * Outside valgrind each request is a few no-op instructions.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <valgrind/callgrind.h>

static PyObject *marks_start(PyObject *self, PyObject *unused) {
    CALLGRIND_ZERO_STATS;
    Py_RETURN_NONE;
}

static PyObject *marks_stop(PyObject *self, PyObject *args) {
    const char *name;
    if (!PyArg_ParseTuple(args, "s", &name))
        return NULL;
    CALLGRIND_DUMP_STATS_AT(name);
    Py_RETURN_NONE;
}

static PyObject *marks_running(PyObject *self, PyObject *unused) {
    return PyBool_FromLong(RUNNING_ON_VALGRIND);
}

static PyMethodDef methods[] = {
    {"start", marks_start, METH_NOARGS, "Zero every thread's counters."},
    {"stop", marks_stop, METH_VARARGS, "Dump what every thread ran since start() under a name."},
    {"running", marks_running, METH_NOARGS, "True under valgrind."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_callgrind_marks", NULL, -1, methods};

PyMODINIT_FUNC PyInit__callgrind_marks(void) { return PyModule_Create(&module); }
