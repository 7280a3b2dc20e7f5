/*
 * The part of wasmtime's component C API that boundary.c uses, pinned to wasmtime 50.0.1
 * (the `_libwasmtime.so` of the wasmtime-py 50.0.1 wheel).
 *
 * Copied from wasmtime's `crates/c-api/include/wasm.h` (wasm_byte_vec_t) and
 * `crates/c-api/include/wasmtime/component/val.h` / `func.h`, as the wasmtime-py 50.0.1 wheel
 * binds them: its `wasmtime/_bindings.py` is generated from exactly those headers, and
 * tests/host/runtime/test_native_boundary.py compares every size and offset below with that
 * file's ctypes structures, so a drift fails a test rather than corrupting memory.
 *
 * No symbol is linked: boundary.c resolves each function with dlsym on the handle wasmtime-py
 * already opened (one copy of libwasmtime in the process, the one wasmtime-py's objects live in).
 */
#ifndef TRAFI_WASMTIME_COMPONENT_API_H
#define TRAFI_WASMTIME_COMPONENT_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TRAFI_WASMTIME_VERSION "50.0.1"

typedef struct wasm_byte_vec_t {
    size_t size;
    uint8_t *data;
} wasm_byte_vec_t;
typedef wasm_byte_vec_t wasm_name_t;

/* Opaque: only ever handled by pointer. */
typedef struct wasmtime_context wasmtime_context_t;
typedef struct wasmtime_error wasmtime_error_t;
typedef struct wasmtime_component_resource_any wasmtime_component_resource_any_t;

typedef uint8_t wasmtime_component_valkind_t;
#define WASMTIME_COMPONENT_BOOL 0
#define WASMTIME_COMPONENT_S8 1
#define WASMTIME_COMPONENT_U8 2
#define WASMTIME_COMPONENT_S16 3
#define WASMTIME_COMPONENT_U16 4
#define WASMTIME_COMPONENT_S32 5
#define WASMTIME_COMPONENT_U32 6
#define WASMTIME_COMPONENT_S64 7
#define WASMTIME_COMPONENT_U64 8
#define WASMTIME_COMPONENT_F32 9
#define WASMTIME_COMPONENT_F64 10
#define WASMTIME_COMPONENT_CHAR 11
#define WASMTIME_COMPONENT_STRING 12
#define WASMTIME_COMPONENT_LIST 13
#define WASMTIME_COMPONENT_RECORD 14
#define WASMTIME_COMPONENT_TUPLE 15
#define WASMTIME_COMPONENT_VARIANT 16
#define WASMTIME_COMPONENT_ENUM 17
#define WASMTIME_COMPONENT_OPTION 18
#define WASMTIME_COMPONENT_RESULT 19
#define WASMTIME_COMPONENT_FLAGS 20
#define WASMTIME_COMPONENT_RESOURCE 21

struct wasmtime_component_val;
struct wasmtime_component_valrecord_entry;
struct wasmtime_component_valmap_entry;

typedef struct wasmtime_component_vallist_t {
    size_t size;
    struct wasmtime_component_val *data;
} wasmtime_component_vallist_t;

typedef struct wasmtime_component_valrecord_t {
    size_t size;
    struct wasmtime_component_valrecord_entry *data;
} wasmtime_component_valrecord_t;

typedef struct wasmtime_component_valtuple_t {
    size_t size;
    struct wasmtime_component_val *data;
} wasmtime_component_valtuple_t;

typedef struct wasmtime_component_valflags_t {
    size_t size;
    wasm_name_t *data;
} wasmtime_component_valflags_t;

typedef struct wasmtime_component_valmap_t {
    size_t size;
    struct wasmtime_component_valmap_entry *data;
} wasmtime_component_valmap_t;

typedef struct wasmtime_component_valvariant_t {
    wasm_name_t discriminant;
    struct wasmtime_component_val *val; /* NULL: a case without payload */
} wasmtime_component_valvariant_t;

typedef struct wasmtime_component_valresult_t {
    bool is_ok;
    struct wasmtime_component_val *val; /* NULL: a case without payload */
} wasmtime_component_valresult_t;

typedef union wasmtime_component_valunion_t {
    bool boolean;
    int8_t s8;
    uint8_t u8;
    int16_t s16;
    uint16_t u16;
    int32_t s32;
    uint32_t u32;
    int64_t s64;
    uint64_t u64;
    float f32;
    double f64;
    uint32_t character;
    wasm_name_t string;
    wasmtime_component_vallist_t list;
    wasmtime_component_valrecord_t record;
    wasmtime_component_valtuple_t tuple;
    wasmtime_component_valvariant_t variant;
    wasm_name_t enumeration;
    struct wasmtime_component_val *option; /* NULL: none */
    wasmtime_component_valresult_t result;
    wasmtime_component_valflags_t flags;
    wasmtime_component_valmap_t map;
    wasmtime_component_resource_any_t *resource;
} wasmtime_component_valunion_t;

typedef struct wasmtime_component_val {
    wasmtime_component_valkind_t kind;
    wasmtime_component_valunion_t of;
} wasmtime_component_val_t;

typedef struct wasmtime_component_valrecord_entry {
    wasm_name_t name;
    wasmtime_component_val_t val;
} wasmtime_component_valrecord_entry_t;

/* wasmtime_component_func_t: a (store id, index) pair handed around by value. */
typedef struct wasmtime_component_func_t {
    struct {
        uint64_t store_id;
        uint32_t __private1;
    } _anon_1;
    uint32_t __private2;
    void *__private3;
} wasmtime_component_func_t;

/* The functions, as pointer types: boundary.c fills a table of them with dlsym. */
typedef void (*wasm_byte_vec_new_fn)(wasm_byte_vec_t *out, size_t size, const uint8_t *data);
typedef void (*wasmtime_component_vallist_new_uninit_fn)(wasmtime_component_vallist_t *out, size_t size);
typedef void (*wasmtime_component_valrecord_new_uninit_fn)(wasmtime_component_valrecord_t *out, size_t size);
typedef void (*wasmtime_component_valtuple_new_uninit_fn)(wasmtime_component_valtuple_t *out, size_t size);
/* Moves *value into a new heap box (a variant's, option's or result's payload). */
typedef wasmtime_component_val_t *(*wasmtime_component_val_new_fn)(wasmtime_component_val_t *value);
/* Drops what *value owns, recursively; the value itself is not freed. */
typedef void (*wasmtime_component_val_delete_fn)(wasmtime_component_val_t *value);
typedef wasmtime_error_t *(*wasmtime_component_func_call_fn)(
    const wasmtime_component_func_t *func, wasmtime_context_t *context,
    const wasmtime_component_val_t *args, size_t args_size,
    wasmtime_component_val_t *results, size_t results_size);
typedef wasmtime_error_t *(*wasmtime_component_func_post_return_fn)(
    const wasmtime_component_func_t *func, wasmtime_context_t *context);


/* Host functions (imports) in C: wasmtime calls `callback` with the store context, the function's
 * type (valid during the call), the arguments (owned and dropped by wasmtime after the callback)
 * and the results to fill (all-false bools on entry). A non-NULL return is the call's error. */
typedef struct wasmtime_component_linker_instance wasmtime_component_linker_instance_t;
typedef struct wasmtime_component_func_type wasmtime_component_func_type_t;
typedef wasmtime_error_t *(*wasmtime_component_func_callback_t)(
    void *env, wasmtime_context_t *context, const wasmtime_component_func_type_t *type,
    wasmtime_component_val_t *args, size_t nargs, wasmtime_component_val_t *results, size_t nresults);
typedef wasmtime_error_t *(*wasmtime_component_linker_instance_add_func_fn)(
    wasmtime_component_linker_instance_t *linker_instance, const char *name, size_t name_len,
    wasmtime_component_func_callback_t callback, void *env, void (*finalizer)(void *));
typedef wasmtime_error_t *(*wasmtime_error_new_fn)(const char *message);

/* From `crates/c-api/include/wasmtime/store.h`: the per-call limits, set in the same C call as
 * the call itself (wasmtime-py's Store.set_epoch_deadline / set_fuel, one ctypes call each). */
typedef void (*wasmtime_context_set_epoch_deadline_fn)(wasmtime_context_t *context, uint64_t ticks_beyond_current);
typedef wasmtime_error_t *(*wasmtime_context_set_fuel_fn)(wasmtime_context_t *context, uint64_t fuel);

#endif
