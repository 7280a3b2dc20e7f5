/*
 * Typed value conversion for component calls, in C: the Python arguments of an export call are
 * lowered straight into wasmtime_component_val_t, the call and its post-return run with the GIL
 * released once, and the result is lifted into the same Python values wasmtime-py makes
 * (wasmtime.component.Record, Variant, bytes, str, int, list, tuple, None). Host functions
 * (imports) are C callbacks converting the same way around the Python function they call.
 *
 * A call's types come as a "plan" compiled once from a descriptor that runtime/native/plans.py
 * builds from wasmtime-py's own type objects (tagging and case classes included), so both paths
 * make the same choices. Errors of the call (traps, epoch interrupts, a host function's
 * exception) are handed back as the raw wasmtime_error_t pointer to a Python function that turns
 * them into wasmtime-py's WasmtimeError exactly as wasmtime-py does.
 *
 * Pinned to wasmtime 50.0.1: see wasmtime_component_api.h.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <dlfcn.h>
#include <string.h>

#include "epoch_ticker.h"
#include "wasmtime_component_api.h"

/* The digest of the sources this file was built from (build.py compiles it in beside). */
const char *trafi_boundary_digest(void);

static struct {
    wasm_byte_vec_new_fn byte_vec_new;
    wasmtime_component_vallist_new_uninit_fn vallist_new_uninit;
    wasmtime_component_valrecord_new_uninit_fn valrecord_new_uninit;
    wasmtime_component_valtuple_new_uninit_fn valtuple_new_uninit;
    wasmtime_component_val_new_fn val_new;
    wasmtime_component_val_delete_fn val_delete;
    wasmtime_component_func_call_fn func_call;
    wasmtime_component_func_post_return_fn func_post_return;
    wasmtime_component_linker_instance_add_func_fn linker_instance_add_func;
    wasmtime_error_new_fn error_new;
    wasmtime_context_set_epoch_deadline_fn set_epoch_deadline;
    wasmtime_context_set_fuel_fn set_fuel;
} api;

static PyObject *record_class;  /* wasmtime.component.Record */
static PyObject *variant_class; /* wasmtime.component.Variant */
static PyObject *raise_error;   /* (error pointer as int) -> raises */
static PyObject *import_plan;   /* (function type address) -> plan capsule */
static PyObject *import_failed; /* (exception) -> error pointer as int, for wasmtime */
static PyObject *str_tag, *str_payload;

/* Node kinds: wasmtime's value kinds, plus list<u8> converted as bytes. */
enum {
    K_BOOL = WASMTIME_COMPONENT_BOOL,
    K_S8 = WASMTIME_COMPONENT_S8,
    K_U8 = WASMTIME_COMPONENT_U8,
    K_S16 = WASMTIME_COMPONENT_S16,
    K_U16 = WASMTIME_COMPONENT_U16,
    K_S32 = WASMTIME_COMPONENT_S32,
    K_U32 = WASMTIME_COMPONENT_U32,
    K_S64 = WASMTIME_COMPONENT_S64,
    K_U64 = WASMTIME_COMPONENT_U64,
    K_F32 = WASMTIME_COMPONENT_F32,
    K_F64 = WASMTIME_COMPONENT_F64,
    K_CHAR = WASMTIME_COMPONENT_CHAR,
    K_STRING = WASMTIME_COMPONENT_STRING,
    K_LIST = WASMTIME_COMPONENT_LIST,
    K_RECORD = WASMTIME_COMPONENT_RECORD,
    K_TUPLE = WASMTIME_COMPONENT_TUPLE,
    K_VARIANT = WASMTIME_COMPONENT_VARIANT,
    K_ENUM = WASMTIME_COMPONENT_ENUM,
    K_OPTION = WASMTIME_COMPONENT_OPTION,
    K_RESULT = WASMTIME_COMPONENT_RESULT,
    K_BYTES = 100,
};

typedef struct node {
    int kind;
    int tagged;             /* variant-like: lifts to / lowers from Variant(tag, payload) */
    Py_ssize_t count;       /* fields, elements, cases or names */
    struct node **children; /* list: [element]; record/tuple: one each; cases: payload or NULL */
    PyObject **names;       /* record fields, case and enum names (str) */
    PyObject **classes;     /* untagged cases: the classes a payload value may have */
} node;

typedef struct plan {
    Py_ssize_t nparams;
    node **params;
    node *result; /* NULL: the function returns nothing */
} plan;

/* ---- plans ------------------------------------------------------------------------------- */

static void node_free(node *n) {
    if (n == NULL)
        return;
    for (Py_ssize_t i = 0; i < n->count; i++) {
        if (n->children)
            node_free(n->children[i]);
        if (n->names)
            Py_XDECREF(n->names[i]);
        if (n->classes)
            Py_XDECREF(n->classes[i]);
    }
    PyMem_Free(n->children);
    PyMem_Free(n->names);
    PyMem_Free(n->classes);
    PyMem_Free(n);
}

static const struct {
    const char *name;
    int kind;
} scalar_kinds[] = {
    {"bool", K_BOOL}, {"s8", K_S8},   {"u8", K_U8},   {"s16", K_S16},   {"u16", K_U16},
    {"s32", K_S32},   {"u32", K_U32}, {"s64", K_S64}, {"u64", K_U64},   {"f32", K_F32},
    {"f64", K_F64},   {"char", K_CHAR}, {"string", K_STRING}, {"bytes", K_BYTES},
};

static node *node_new(int kind, Py_ssize_t count) {
    node *n = PyMem_Calloc(1, sizeof(node));
    if (n == NULL)
        return (node *)PyErr_NoMemory();
    n->kind = kind;
    n->count = count;
    if (count > 0) {
        n->children = PyMem_Calloc((size_t)count, sizeof(node *));
        n->names = PyMem_Calloc((size_t)count, sizeof(PyObject *));
        n->classes = PyMem_Calloc((size_t)count, sizeof(PyObject *));
        if (!n->children || !n->names || !n->classes) {
            node_free(n);
            return (node *)PyErr_NoMemory();
        }
    }
    return n;
}

static node *compile_node(PyObject *desc);

/* A case list: ((name, payload descriptor or None, classes or None), ...). */
static node *compile_cases(int kind, PyObject *tagged, PyObject *cases) {
    if (!PyTuple_Check(cases)) {
        PyErr_SetString(PyExc_TypeError, "plan: cases must be a tuple");
        return NULL;
    }
    node *n = node_new(kind, PyTuple_GET_SIZE(cases));
    if (n == NULL)
        return NULL;
    n->tagged = PyObject_IsTrue(tagged);
    for (Py_ssize_t i = 0; i < n->count; i++) {
        PyObject *name, *payload, *classes;
        if (!PyArg_ParseTuple(PyTuple_GET_ITEM(cases, i), "UOO", &name, &payload, &classes)) {
            node_free(n);
            return NULL;
        }
        n->names[i] = Py_NewRef(name);
        n->classes[i] = Py_NewRef(classes);
        if (payload != Py_None && (n->children[i] = compile_node(payload)) == NULL) {
            node_free(n);
            return NULL;
        }
    }
    return n;
}

static node *compile_node(PyObject *desc) {
    if (!PyTuple_Check(desc) || PyTuple_GET_SIZE(desc) < 1 || !PyUnicode_Check(PyTuple_GET_ITEM(desc, 0))) {
        PyErr_Format(PyExc_TypeError, "plan: bad type descriptor %R", desc);
        return NULL;
    }
    const char *what = PyUnicode_AsUTF8(PyTuple_GET_ITEM(desc, 0));
    Py_ssize_t size = PyTuple_GET_SIZE(desc);
    for (size_t i = 0; i < sizeof(scalar_kinds) / sizeof(scalar_kinds[0]); i++) {
        if (strcmp(what, scalar_kinds[i].name) == 0)
            return node_new(scalar_kinds[i].kind, 0);
    }
    if (strcmp(what, "list") == 0 && size == 2) {
        node *n = node_new(K_LIST, 1);
        if (n && (n->children[0] = compile_node(PyTuple_GET_ITEM(desc, 1))) == NULL) {
            node_free(n);
            return NULL;
        }
        return n;
    }
    if ((strcmp(what, "record") == 0 || strcmp(what, "tuple") == 0 || strcmp(what, "enum") == 0) &&
        size == 2 && PyTuple_Check(PyTuple_GET_ITEM(desc, 1))) {
        int kind = what[0] == 'r' ? K_RECORD : what[0] == 't' ? K_TUPLE : K_ENUM;
        PyObject *items = PyTuple_GET_ITEM(desc, 1);
        node *n = node_new(kind, PyTuple_GET_SIZE(items));
        if (n == NULL)
            return NULL;
        for (Py_ssize_t i = 0; i < n->count; i++) {
            PyObject *item = PyTuple_GET_ITEM(items, i), *name = NULL, *child = item;
            if (kind == K_RECORD && !PyArg_ParseTuple(item, "UO", &name, &child)) {
                node_free(n);
                return NULL;
            }
            if (kind == K_ENUM) {
                if (!PyUnicode_Check(item)) {
                    node_free(n);
                    PyErr_SetString(PyExc_TypeError, "plan: enum names must be strings");
                    return NULL;
                }
                name = item;
            }
            if (name)
                n->names[i] = Py_NewRef(name);
            if (kind != K_ENUM && (n->children[i] = compile_node(child)) == NULL) {
                node_free(n);
                return NULL;
            }
        }
        return n;
    }
    if (size == 3 && strcmp(what, "variant") == 0)
        return compile_cases(K_VARIANT, PyTuple_GET_ITEM(desc, 1), PyTuple_GET_ITEM(desc, 2));
    if (size == 3 && strcmp(what, "option") == 0)
        return compile_cases(K_OPTION, PyTuple_GET_ITEM(desc, 1), PyTuple_GET_ITEM(desc, 2));
    if (size == 3 && strcmp(what, "result") == 0)
        return compile_cases(K_RESULT, PyTuple_GET_ITEM(desc, 1), PyTuple_GET_ITEM(desc, 2));
    PyErr_Format(PyExc_TypeError, "plan: unsupported type descriptor %R", desc);
    return NULL;
}

static void plan_free(plan *p) {
    for (Py_ssize_t i = 0; i < p->nparams; i++)
        node_free(p->params[i]);
    PyMem_Free(p->params);
    node_free(p->result);
    PyMem_Free(p);
}

static void plan_capsule_free(PyObject *capsule) {
    plan *p = PyCapsule_GetPointer(capsule, "trafi.plan");
    if (p)
        plan_free(p);
}

/* compile(params: tuple of descriptors, result: descriptor or None) -> plan capsule */
static PyObject *boundary_compile(PyObject *self, PyObject *args) {
    PyObject *params, *result;
    if (!PyArg_ParseTuple(args, "O!O", &PyTuple_Type, &params, &result))
        return NULL;
    plan *p = PyMem_Calloc(1, sizeof(plan));
    if (p == NULL)
        return PyErr_NoMemory();
    p->nparams = PyTuple_GET_SIZE(params);
    p->params = PyMem_Calloc((size_t)(p->nparams ? p->nparams : 1), sizeof(node *));
    if (p->params == NULL) {
        PyMem_Free(p);
        return PyErr_NoMemory();
    }
    for (Py_ssize_t i = 0; i < p->nparams; i++) {
        if ((p->params[i] = compile_node(PyTuple_GET_ITEM(params, i))) == NULL) {
            plan_free(p);
            return NULL;
        }
    }
    if (result != Py_None && (p->result = compile_node(result)) == NULL) {
        plan_free(p);
        return NULL;
    }
    PyObject *capsule = PyCapsule_New(p, "trafi.plan", plan_capsule_free);
    if (capsule == NULL)
        plan_free(p);
    return capsule;
}

/* ---- lowering: Python -> wasmtime_component_val_t ------------------------------------------ */
/*
 * Every lower_* leaves *out a value wasmtime_component_val_delete can drop, success or not
 * (a container is made of all-false bools first), so the caller cleans up with one delete.
 */

static int lower(const node *n, PyObject *value, wasmtime_component_val_t *out);

static int set_name(wasm_name_t *out, PyObject *name) {
    Py_ssize_t size;
    const char *text = PyUnicode_AsUTF8AndSize(name, &size);
    if (text == NULL)
        return -1;
    api.byte_vec_new(out, (size_t)size, (const uint8_t *)text);
    return 0;
}

static int lower_int(const node *n, PyObject *value, wasmtime_component_val_t *out) {
    if (!PyLong_Check(value)) {
        PyErr_Format(PyExc_TypeError, "expected an int, got %.100s", Py_TYPE(value)->tp_name);
        return -1;
    }
    if (n->kind == K_U64) {
        unsigned long long v = PyLong_AsUnsignedLongLong(value);
        if (v == (unsigned long long)-1 && PyErr_Occurred())
            return -1;
        out->of.u64 = v;
        out->kind = (wasmtime_component_valkind_t)n->kind;
        return 0;
    }
    long long v = PyLong_AsLongLong(value);
    if (v == -1 && PyErr_Occurred())
        return -1;
    long long lo, hi;
    switch (n->kind) {
    case K_S8: lo = INT8_MIN; hi = INT8_MAX; break;
    case K_U8: lo = 0; hi = UINT8_MAX; break;
    case K_S16: lo = INT16_MIN; hi = INT16_MAX; break;
    case K_U16: lo = 0; hi = UINT16_MAX; break;
    case K_S32: lo = INT32_MIN; hi = INT32_MAX; break;
    case K_U32: lo = 0; hi = UINT32_MAX; break;
    default: lo = INT64_MIN; hi = INT64_MAX; break;
    }
    if (v < lo || v > hi) {
        PyErr_Format(PyExc_OverflowError, "%lld is out of range for this integer type", v);
        return -1;
    }
    switch (n->kind) {
    case K_S8: out->of.s8 = (int8_t)v; break;
    case K_U8: out->of.u8 = (uint8_t)v; break;
    case K_S16: out->of.s16 = (int16_t)v; break;
    case K_U16: out->of.u16 = (uint16_t)v; break;
    case K_S32: out->of.s32 = (int32_t)v; break;
    case K_U32: out->of.u32 = (uint32_t)v; break;
    default: out->of.s64 = (int64_t)v; break;
    }
    out->kind = (wasmtime_component_valkind_t)n->kind;
    return 0;
}

static int lower_bytes(PyObject *value, wasmtime_component_val_t *out) {
    if (!PyBytes_Check(value)) {
        PyErr_SetString(PyExc_TypeError, "expected bytes value");
        return -1;
    }
    Py_ssize_t count = PyBytes_GET_SIZE(value);
    const uint8_t *bytes = (const uint8_t *)PyBytes_AS_STRING(value);
    wasmtime_component_vallist_t list;
    api.vallist_new_uninit(&list, (size_t)count);
    for (Py_ssize_t i = 0; i < count; i++) {
        list.data[i].kind = WASMTIME_COMPONENT_U8;
        list.data[i].of.u8 = bytes[i];
    }
    out->kind = WASMTIME_COMPONENT_LIST;
    out->of.list = list;
    return 0;
}

static int lower_list(const node *n, PyObject *value, wasmtime_component_val_t *out) {
    if (!PyList_Check(value)) {
        PyErr_SetString(PyExc_TypeError, "expected list value");
        return -1;
    }
    Py_ssize_t count = PyList_GET_SIZE(value);
    wasmtime_component_vallist_t list;
    api.vallist_new_uninit(&list, (size_t)count);
    if (count)
        memset(list.data, 0, (size_t)count * sizeof(wasmtime_component_val_t));
    out->kind = WASMTIME_COMPONENT_LIST;
    out->of.list = list;
    for (Py_ssize_t i = 0; i < count; i++) {
        if (PyList_GET_SIZE(value) != count) {
            PyErr_SetString(PyExc_RuntimeError, "list changed size while it was converted");
            return -1;
        }
        PyObject *item = Py_NewRef(PyList_GET_ITEM(value, i));
        int failed = lower(n->children[0], item, &list.data[i]);
        Py_DECREF(item);
        if (failed)
            return -1;
    }
    return 0;
}

static int lower_tuple(const node *n, PyObject *value, wasmtime_component_val_t *out) {
    if (!PyTuple_Check(value)) {
        PyErr_SetString(PyExc_TypeError, "expected tuple type");
        return -1;
    }
    if (PyTuple_GET_SIZE(value) != n->count) {
        PyErr_SetString(PyExc_TypeError, "tuple length mismatch");
        return -1;
    }
    wasmtime_component_valtuple_t tuple;
    api.valtuple_new_uninit(&tuple, (size_t)n->count);
    if (n->count)
        memset(tuple.data, 0, (size_t)n->count * sizeof(wasmtime_component_val_t));
    out->kind = WASMTIME_COMPONENT_TUPLE;
    out->of.tuple = tuple;
    for (Py_ssize_t i = 0; i < n->count; i++) {
        if (lower(n->children[i], PyTuple_GET_ITEM(value, i), &tuple.data[i]))
            return -1;
    }
    return 0;
}

static int lower_record(const node *n, PyObject *value, wasmtime_component_val_t *out) {
    wasmtime_component_valrecord_t record;
    api.valrecord_new_uninit(&record, (size_t)n->count);
    for (Py_ssize_t i = 0; i < n->count; i++) {
        memset(&record.data[i].val, 0, sizeof(wasmtime_component_val_t));
        memset(&record.data[i].name, 0, sizeof(wasm_name_t));
    }
    /* Names first: a record holding them all is deletable whatever field fails below. */
    for (Py_ssize_t i = 0; i < n->count; i++) {
        if (set_name(&record.data[i].name, n->names[i])) {
            for (Py_ssize_t j = i; j < n->count; j++)
                api.byte_vec_new(&record.data[j].name, 0, NULL);
            out->kind = WASMTIME_COMPONENT_RECORD;
            out->of.record = record;
            return -1;
        }
    }
    out->kind = WASMTIME_COMPONENT_RECORD;
    out->of.record = record;
    for (Py_ssize_t i = 0; i < n->count; i++) {
        PyObject *field = PyObject_GetAttr(value, n->names[i]);
        if (field == NULL)
            return -1;
        int failed = lower(n->children[i], field, &record.data[i].val);
        Py_DECREF(field);
        if (failed)
            return -1;
    }
    return 0;
}

static int lower_cases(const node *n, PyObject *value, wasmtime_component_val_t *out) {
    Py_ssize_t index = -1;
    PyObject *payload = value;
    PyObject *owned = NULL;
    if (n->tagged) {
        int is_variant = PyObject_IsInstance(value, variant_class);
        if (is_variant < 0)
            return -1;
        if (!is_variant) {
            PyErr_SetString(PyExc_TypeError, "expected Variant type");
            return -1;
        }
        PyObject *tag = PyObject_GetAttr(value, str_tag);
        if (tag == NULL)
            return -1;
        for (Py_ssize_t i = 0; i < n->count && index < 0; i++) {
            int same = PyObject_RichCompareBool(tag, n->names[i], Py_EQ);
            if (same < 0) {
                Py_DECREF(tag);
                return -1;
            }
            if (same)
                index = i;
        }
        Py_DECREF(tag);
        if (index >= 0 && n->children[index] != NULL) {
            owned = payload = PyObject_GetAttr(value, str_payload);
            if (payload == NULL)
                return -1;
        }
    } else {
        for (Py_ssize_t i = 0; i < n->count && index < 0; i++) {
            if (n->children[i] == NULL) {
                if (value == Py_None)
                    index = i;
                continue;
            }
            int matches = PyObject_IsInstance(value, n->classes[i]);
            if (matches < 0)
                return -1;
            if (matches)
                index = i;
        }
    }
    if (index < 0) {
        PyErr_SetString(PyExc_ValueError, "value not valid for this variant");
        return -1;
    }
    wasmtime_component_val_t *box = NULL;
    if (n->children[index] != NULL) {
        wasmtime_component_val_t inner;
        memset(&inner, 0, sizeof(inner));
        int failed = lower(n->children[index], payload, &inner);
        Py_XDECREF(owned);
        if (failed) {
            api.val_delete(&inner);
            return -1;
        }
        box = api.val_new(&inner);
    }
    switch (n->kind) {
    case K_OPTION:
        out->kind = WASMTIME_COMPONENT_OPTION;
        out->of.option = box;
        return 0;
    case K_RESULT:
        out->kind = WASMTIME_COMPONENT_RESULT;
        out->of.result.is_ok = index == 0;
        out->of.result.val = box;
        return 0;
    default:
        if (set_name(&out->of.variant.discriminant, n->names[index])) {
            if (box) {
                out->kind = WASMTIME_COMPONENT_OPTION; /* hand the box to the caller's delete */
                out->of.option = box;
            }
            return -1;
        }
        out->kind = WASMTIME_COMPONENT_VARIANT;
        out->of.variant.val = box;
        return 0;
    }
}

static int lower(const node *n, PyObject *value, wasmtime_component_val_t *out) {
    switch (n->kind) {
    case K_BOOL:
        if (!PyBool_Check(value)) {
            PyErr_SetString(PyExc_TypeError, "expected bool for Bool type");
            return -1;
        }
        out->kind = WASMTIME_COMPONENT_BOOL;
        out->of.boolean = value == Py_True;
        return 0;
    case K_S8: case K_U8: case K_S16: case K_U16: case K_S32: case K_U32: case K_S64: case K_U64:
        return lower_int(n, value, out);
    case K_F32: case K_F64: {
        double v = PyFloat_AsDouble(value);
        if (v == -1.0 && PyErr_Occurred())
            return -1;
        out->kind = (wasmtime_component_valkind_t)n->kind;
        if (n->kind == K_F32)
            out->of.f32 = (float)v;
        else
            out->of.f64 = v;
        return 0;
    }
    case K_CHAR:
        if (!PyUnicode_Check(value) || PyUnicode_GET_LENGTH(value) != 1) {
            PyErr_SetString(PyExc_TypeError, "expected single-character string for Char type");
            return -1;
        }
        out->kind = WASMTIME_COMPONENT_CHAR;
        out->of.character = PyUnicode_READ_CHAR(value, 0);
        return 0;
    case K_STRING: {
        if (!PyUnicode_Check(value)) {
            PyErr_SetString(PyExc_TypeError, "expected string type");
            return -1;
        }
        wasm_name_t text;
        if (set_name(&text, value))
            return -1;
        out->kind = WASMTIME_COMPONENT_STRING;
        out->of.string = text;
        return 0;
    }
    case K_ENUM: {
        if (!PyUnicode_Check(value)) {
            PyErr_SetString(PyExc_TypeError, "expected str type");
            return -1;
        }
        wasm_name_t name;
        if (set_name(&name, value))
            return -1;
        out->kind = WASMTIME_COMPONENT_ENUM;
        out->of.enumeration = name;
        return 0;
    }
    case K_BYTES:
        return lower_bytes(value, out);
    case K_LIST:
        return lower_list(n, value, out);
    case K_TUPLE:
        return lower_tuple(n, value, out);
    case K_RECORD:
        return lower_record(n, value, out);
    case K_VARIANT: case K_OPTION: case K_RESULT:
        return lower_cases(n, value, out);
    }
    PyErr_SetString(PyExc_SystemError, "boundary: unknown node kind");
    return -1;
}

/* ---- lifting: wasmtime_component_val_t -> Python (the caller deletes the value) ------------- */

static PyObject *lift(const node *n, const wasmtime_component_val_t *value);

static PyObject *kind_mismatch(const node *n, const wasmtime_component_val_t *value) {
    PyErr_Format(PyExc_SystemError, "boundary: expected a value of kind %d, got kind %d", n->kind, value->kind);
    return NULL;
}

static PyObject *lift_text(const wasm_name_t *text) {
    return PyUnicode_DecodeUTF8((const char *)text->data, (Py_ssize_t)text->size, NULL);
}

static PyObject *lift_case(const node *n, Py_ssize_t index, const wasmtime_component_val_t *payload) {
    PyObject *inner = Py_None;
    if (n->children[index] != NULL && payload != NULL) {
        inner = lift(n->children[index], payload);
        if (inner == NULL)
            return NULL;
    } else {
        Py_INCREF(inner);
    }
    if (!n->tagged)
        return inner;
    PyObject *variant = PyObject_CallFunctionObjArgs(variant_class, n->names[index], inner, NULL);
    Py_DECREF(inner);
    return variant;
}

static PyObject *lift(const node *n, const wasmtime_component_val_t *value) {
    int expected = n->kind == K_BYTES ? K_LIST : n->kind;
    if (value->kind != expected)
        return kind_mismatch(n, value);
    switch (n->kind) {
    case K_BOOL: return PyBool_FromLong(value->of.boolean);
    case K_S8: return PyLong_FromLong(value->of.s8);
    case K_U8: return PyLong_FromLong(value->of.u8);
    case K_S16: return PyLong_FromLong(value->of.s16);
    case K_U16: return PyLong_FromLong(value->of.u16);
    case K_S32: return PyLong_FromLong(value->of.s32);
    case K_U32: return PyLong_FromUnsignedLong(value->of.u32);
    case K_S64: return PyLong_FromLongLong(value->of.s64);
    case K_U64: return PyLong_FromUnsignedLongLong(value->of.u64);
    case K_F32: return PyFloat_FromDouble(value->of.f32);
    case K_F64: return PyFloat_FromDouble(value->of.f64);
    case K_CHAR: return PyUnicode_FromOrdinal((int)value->of.character);
    case K_STRING: return lift_text(&value->of.string);
    case K_ENUM: return lift_text(&value->of.enumeration);
    case K_BYTES: {
        size_t count = value->of.list.size;
        PyObject *bytes = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)count);
        if (bytes == NULL)
            return NULL;
        uint8_t *target = (uint8_t *)PyBytes_AS_STRING(bytes);
        const wasmtime_component_val_t *items = value->of.list.data;
        for (size_t i = 0; i < count; i++)
            target[i] = items[i].of.u8;
        return bytes;
    }
    case K_LIST: {
        size_t count = value->of.list.size;
        PyObject *list = PyList_New((Py_ssize_t)count);
        if (list == NULL)
            return NULL;
        for (size_t i = 0; i < count; i++) {
            PyObject *item = lift(n->children[0], &value->of.list.data[i]);
            if (item == NULL) {
                Py_DECREF(list);
                return NULL;
            }
            PyList_SET_ITEM(list, (Py_ssize_t)i, item);
        }
        return list;
    }
    case K_TUPLE: {
        if ((Py_ssize_t)value->of.tuple.size != n->count)
            return kind_mismatch(n, value);
        PyObject *tuple = PyTuple_New(n->count);
        if (tuple == NULL)
            return NULL;
        for (Py_ssize_t i = 0; i < n->count; i++) {
            PyObject *item = lift(n->children[i], &value->of.tuple.data[i]);
            if (item == NULL) {
                Py_DECREF(tuple);
                return NULL;
            }
            PyTuple_SET_ITEM(tuple, i, item);
        }
        return tuple;
    }
    case K_RECORD: {
        if ((Py_ssize_t)value->of.record.size != n->count)
            return kind_mismatch(n, value);
        PyObject *record = PyObject_CallNoArgs(record_class);
        if (record == NULL)
            return NULL;
        for (Py_ssize_t i = 0; i < n->count; i++) {
            PyObject *field = lift(n->children[i], &value->of.record.data[i].val);
            if (field == NULL || PyObject_SetAttr(record, n->names[i], field)) {
                Py_XDECREF(field);
                Py_DECREF(record);
                return NULL;
            }
            Py_DECREF(field);
        }
        return record;
    }
    case K_OPTION:
        return lift_case(n, value->of.option ? 1 : 0, value->of.option);
    case K_RESULT:
        return lift_case(n, value->of.result.is_ok ? 0 : 1, value->of.result.val);
    case K_VARIANT: {
        const wasm_name_t *tag = &value->of.variant.discriminant;
        for (Py_ssize_t i = 0; i < n->count; i++) {
            Py_ssize_t size;
            const char *name = PyUnicode_AsUTF8AndSize(n->names[i], &size);
            if (name == NULL)
                return NULL;
            if ((size_t)size == tag->size && memcmp(name, tag->data, (size_t)size) == 0)
                return lift_case(n, i, value->of.variant.val);
        }
        PyErr_SetString(PyExc_ValueError, "boundary: variant case not in the type");
        return NULL;
    }
    }
    PyErr_SetString(PyExc_SystemError, "boundary: unknown node kind");
    return NULL;
}

/* ---- calls ------------------------------------------------------------------------------- */

#define INLINE_PARAMS 8

/* call(plan, func address, store context address, params tuple[, epoch ticks, fuel])
 *   -> the lifted result or None.
 * With `epoch ticks` (and `fuel`, < 0: not metered) the store's per-call limits are set in this
 * same call, with the GIL released, instead of by one ctypes call each before it. */
static PyObject *boundary_call(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if ((nargs != 4 && nargs != 6) || !PyTuple_Check(args[3])) {
        PyErr_SetString(PyExc_TypeError,
                        "call(plan, func address, context address, params tuple[, epoch ticks, fuel])");
        return NULL;
    }
    int limits = nargs == 6;
    unsigned long long ticks = 0;
    long long fuel = -1;
    if (limits) {
        ticks = PyLong_AsUnsignedLongLong(args[4]);
        if (ticks == (unsigned long long)-1 && PyErr_Occurred())
            return NULL;
        fuel = PyLong_AsLongLong(args[5]);
        if (fuel == -1 && PyErr_Occurred())
            return NULL;
    }
    if (api.func_call == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "boundary: init() was not called");
        return NULL;
    }
    plan *p = PyCapsule_GetPointer(args[0], "trafi.plan");
    if (p == NULL)
        return NULL;
    const wasmtime_component_func_t *func = PyLong_AsVoidPtr(args[1]);
    if (func == NULL && PyErr_Occurred())
        return NULL;
    wasmtime_context_t *context = PyLong_AsVoidPtr(args[2]);
    if (context == NULL && PyErr_Occurred())
        return NULL;
    PyObject *params = args[3];
    Py_ssize_t count = PyTuple_GET_SIZE(params);
    if (count != p->nparams) {
        PyErr_Format(PyExc_TypeError, "wrong number of parameters provided: given %zd, expected %zd", count,
                     p->nparams);
        return NULL;
    }
    wasmtime_component_val_t inline_vals[INLINE_PARAMS];
    wasmtime_component_val_t *vals = inline_vals;
    if (count > INLINE_PARAMS && (vals = PyMem_Calloc((size_t)count, sizeof(*vals))) == NULL)
        return PyErr_NoMemory();
    memset(vals, 0, (size_t)(count > INLINE_PARAMS ? count : INLINE_PARAMS) * sizeof(*vals));
    int lowered = 1;
    for (Py_ssize_t i = 0; i < count && lowered; i++)
        lowered = lower(p->params[i], PyTuple_GET_ITEM(params, i), &vals[i]) == 0;

    wasmtime_component_val_t result;
    memset(&result, 0, sizeof(result));
    wasmtime_error_t *error = NULL;
    int called = 0;
    Py_BEGIN_ALLOW_THREADS
    if (lowered && limits) {
        api.set_epoch_deadline(context, (uint64_t)ticks);
        if (fuel >= 0)
            error = api.set_fuel(context, (uint64_t)fuel);
    }
    if (lowered && error == NULL) {
        error = api.func_call(func, context, vals, (size_t)count, p->result ? &result : NULL, p->result ? 1 : 0);
        called = error == NULL;
        if (called)
            /* Lets the guest free what it returned (a response body) before anything else runs. */
            error = api.func_post_return(func, context);
    }
    for (Py_ssize_t i = 0; i < count; i++)
        api.val_delete(&vals[i]);
    Py_END_ALLOW_THREADS
    if (vals != inline_vals)
        PyMem_Free(vals);
    if (!lowered)
        return NULL;
    if (error != NULL) {
        if (called && p->result)
            api.val_delete(&result);
        PyObject *address = PyLong_FromVoidPtr(error);
        if (address == NULL)
            return NULL;
        PyObject *raised = PyObject_CallOneArg(raise_error, address);
        Py_DECREF(address);
        if (raised != NULL) {
            Py_DECREF(raised);
            PyErr_SetString(PyExc_SystemError, "boundary: the error handler returned instead of raising");
        }
        return NULL;
    }
    if (p->result == NULL)
        Py_RETURN_NONE;
    PyObject *out = lift(p->result, &result);
    api.val_delete(&result);
    return out;
}

/* ---- host functions (imports) ------------------------------------------------------------ */
/*
 * A host function linked with add_import: wasmtime calls import_callback on the calling thread
 * (inside an export call, the GIL released); it takes the GIL, lifts the arguments with the
 * function's plan (compiled on its first call, from the type wasmtime passes), calls the Python
 * function as wasmtime-py would (a store first: None here, Trafi's host functions never use it),
 * and lowers its result. An exception becomes the error wasmtime-py would return for it.
 */

typedef struct import_env {
    PyObject *func;
    PyObject *plan; /* capsule, or NULL until the first call */
} import_env;

static wasmtime_error_t *import_error(void) {
    /* The Python error turned into wasmtime's, as wasmtime-py's catch_exceptions does. */
    PyObject *type, *value, *traceback;
    PyErr_Fetch(&type, &value, &traceback);
    PyErr_NormalizeException(&type, &value, &traceback);
    if (traceback != NULL && value != NULL)
        PyException_SetTraceback(value, traceback);
    wasmtime_error_t *error = NULL;
    PyObject *address = value ? PyObject_CallOneArg(import_failed, value) : NULL;
    if (address != NULL) {
        error = PyLong_AsVoidPtr(address);
        Py_DECREF(address);
    }
    if (error == NULL) {
        PyErr_WriteUnraisable(import_failed);
        error = api.error_new("host function failed");
    }
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(traceback);
    return error;
}

static wasmtime_error_t *import_callback(void *data, wasmtime_context_t *context,
                                         const wasmtime_component_func_type_t *type,
                                         wasmtime_component_val_t *args, size_t nargs,
                                         wasmtime_component_val_t *results, size_t nresults) {
    PyGILState_STATE gil = PyGILState_Ensure();
    import_env *env = data;
    wasmtime_error_t *error = NULL;
    PyObject *params = NULL, *out = NULL;
    if (env->plan == NULL) {
        PyObject *compiled = PyObject_CallFunction(import_plan, "N", PyLong_FromVoidPtr((void *)type));
        if (compiled == NULL)
            goto failed;
        if (env->plan == NULL)
            env->plan = compiled; /* another thread may have compiled it meanwhile: keep one */
        else
            Py_DECREF(compiled);
    }
    plan *p = PyCapsule_GetPointer(env->plan, "trafi.plan");
    if (p == NULL)
        goto failed;
    if ((Py_ssize_t)nargs != p->nparams || nresults != (p->result ? 1u : 0u)) {
        PyErr_Format(PyExc_TypeError, "host function called with %zu arguments and %zu results", nargs, nresults);
        goto failed;
    }
    if ((params = PyTuple_New((Py_ssize_t)nargs + 1)) == NULL)
        goto failed;
    PyTuple_SET_ITEM(params, 0, Py_NewRef(Py_None));
    for (size_t i = 0; i < nargs; i++) {
        PyObject *value = lift(p->params[i], &args[i]);
        if (value == NULL)
            goto failed;
        PyTuple_SET_ITEM(params, (Py_ssize_t)i + 1, value);
    }
    if ((out = PyObject_Call(env->func, params, NULL)) == NULL)
        goto failed;
    if (p->result != NULL && lower(p->result, out, &results[0]))
        goto failed; /* wasmtime drops what results[0] holds */
    goto done;
failed:
    error = import_error();
done:
    Py_XDECREF(params);
    Py_XDECREF(out);
    PyGILState_Release(gil);
    return error;
}

static void import_finalize(void *data) {
    import_env *env = data;
    if (Py_IsInitialized()) {
        PyGILState_STATE gil = PyGILState_Ensure();
        Py_XDECREF(env->func);
        Py_XDECREF(env->plan);
        PyGILState_Release(gil);
    }
    free(env);
}

/* add_import(linker instance address, name, function): link `function` under `name`. */
static PyObject *boundary_add_import(PyObject *self, PyObject *args) {
    PyObject *address, *func;
    const char *name;
    Py_ssize_t name_len;
    if (!PyArg_ParseTuple(args, "Os#O", &address, &name, &name_len, &func))
        return NULL;
    if (api.linker_instance_add_func == NULL || import_plan == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "boundary: init() was not called");
        return NULL;
    }
    wasmtime_component_linker_instance_t *instance = PyLong_AsVoidPtr(address);
    if (instance == NULL) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_ValueError, "boundary: a null linker instance");
        return NULL;
    }
    import_env *env = calloc(1, sizeof(import_env));
    if (env == NULL)
        return PyErr_NoMemory();
    env->func = Py_NewRef(func);
    wasmtime_error_t *error =
        api.linker_instance_add_func(instance, name, (size_t)name_len, import_callback, env, import_finalize);
    if (error != NULL) {
        /* wasmtime owns env either way: refusing the function dropped it through the finalizer. */
        PyObject *pointer = PyLong_FromVoidPtr(error);
        if (pointer == NULL)
            return NULL;
        PyObject *raised = PyObject_CallOneArg(raise_error, pointer);
        Py_DECREF(pointer);
        Py_XDECREF(raised);
        return NULL;
    }
    Py_RETURN_NONE;
}

/* ---- set-up ------------------------------------------------------------------------------ */

#define RESOLVE(field, symbol)                                                              \
    do {                                                                                    \
        *(void **)(&api.field) = dlsym(handle, symbol);                                     \
        if (api.field == NULL) {                                                            \
            PyErr_Format(PyExc_ImportError, "boundary: libwasmtime has no symbol %s", symbol); \
            return NULL;                                                                    \
        }                                                                                   \
    } while (0)

/* init(libwasmtime dlopen handle, Record class, Variant class, error handler, import plan maker,
 *      import failure handler) */
static PyObject *boundary_init(PyObject *self, PyObject *args) {
    PyObject *handle_object, *record, *variant, *handler, *plan_maker, *failure;
    if (!PyArg_ParseTuple(args, "OOOOOO", &handle_object, &record, &variant, &handler, &plan_maker, &failure))
        return NULL;
    void *handle = PyLong_AsVoidPtr(handle_object);
    if (handle == NULL) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_ValueError, "boundary: a null library handle");
        return NULL;
    }
    RESOLVE(byte_vec_new, "wasm_byte_vec_new");
    RESOLVE(vallist_new_uninit, "wasmtime_component_vallist_new_uninit");
    RESOLVE(valrecord_new_uninit, "wasmtime_component_valrecord_new_uninit");
    RESOLVE(valtuple_new_uninit, "wasmtime_component_valtuple_new_uninit");
    RESOLVE(val_new, "wasmtime_component_val_new");
    RESOLVE(val_delete, "wasmtime_component_val_delete");
    RESOLVE(func_call, "wasmtime_component_func_call");
    RESOLVE(func_post_return, "wasmtime_component_func_post_return");
    RESOLVE(linker_instance_add_func, "wasmtime_component_linker_instance_add_func");
    RESOLVE(error_new, "wasmtime_error_new");
    RESOLVE(set_epoch_deadline, "wasmtime_context_set_epoch_deadline");
    RESOLVE(set_fuel, "wasmtime_context_set_fuel");
    if (trafi_ticker_resolve(handle))
        return NULL;
    Py_XSETREF(record_class, Py_NewRef(record));
    Py_XSETREF(variant_class, Py_NewRef(variant));
    Py_XSETREF(raise_error, Py_NewRef(handler));
    Py_XSETREF(import_plan, Py_NewRef(plan_maker));
    Py_XSETREF(import_failed, Py_NewRef(failure));
    Py_RETURN_NONE;
}

/* layout() -> {name: size or offset}: what tests compare with wasmtime-py's ctypes structures. */
static PyObject *boundary_layout(PyObject *self, PyObject *unused) {
    return Py_BuildValue(
        "{s:n,s:n,s:n,s:n,s:n,s:n,s:n,s:n,s:n,s:n,s:n,s:n}",
        "val_size", (Py_ssize_t)sizeof(wasmtime_component_val_t),
        "val_kind_offset", (Py_ssize_t)offsetof(wasmtime_component_val_t, kind),
        "val_of_offset", (Py_ssize_t)offsetof(wasmtime_component_val_t, of),
        "union_size", (Py_ssize_t)sizeof(wasmtime_component_valunion_t),
        "record_entry_size", (Py_ssize_t)sizeof(wasmtime_component_valrecord_entry_t),
        "record_entry_val_offset", (Py_ssize_t)offsetof(wasmtime_component_valrecord_entry_t, val),
        "variant_val_offset", (Py_ssize_t)offsetof(wasmtime_component_valvariant_t, val),
        "result_val_offset", (Py_ssize_t)offsetof(wasmtime_component_valresult_t, val),
        "func_size", (Py_ssize_t)sizeof(wasmtime_component_func_t),
        "name_size", (Py_ssize_t)sizeof(wasm_name_t),
        "name_data_offset", (Py_ssize_t)offsetof(wasm_name_t, data),
        "list_data_offset", (Py_ssize_t)offsetof(wasmtime_component_vallist_t, data));
}

static PyMethodDef methods[] = {
    {"init", boundary_init, METH_VARARGS, "Resolve libwasmtime's functions; set the Python classes used."},
    {"compile", boundary_compile, METH_VARARGS, "A call plan from parameter and result type descriptors."},
    {"call", (PyCFunction)(void (*)(void))boundary_call, METH_FASTCALL, "Call a component function."},
    {"add_import", boundary_add_import, METH_VARARGS, "Link a Python host function, called through C."},
    {"layout", boundary_layout, METH_NOARGS, "Sizes and offsets of the C structures, for tests."},
    {"ticker_start", trafi_ticker_start, METH_VARARGS, "Advance an engine's epoch from a C thread."},
    {"ticker_stop", trafi_ticker_stop, METH_O, "Stop a ticker's thread (idempotent)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_boundary", NULL, -1, methods};

PyMODINIT_FUNC PyInit__boundary(void) {
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    str_tag = PyUnicode_InternFromString("tag");
    str_payload = PyUnicode_InternFromString("payload");
    if (str_tag == NULL || str_payload == NULL ||
        PyModule_AddStringConstant(m, "SOURCE_DIGEST", trafi_boundary_digest()) ||
        PyModule_AddStringConstant(m, "WASMTIME_VERSION", TRAFI_WASMTIME_VERSION)) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
