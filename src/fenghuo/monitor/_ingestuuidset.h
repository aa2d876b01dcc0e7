/* The dedup window's UUID ids as 16-byte keys in one open-addressing table (monitor.dedup,
monitor.seenids), instead of a Python set of str.

Why (issue 19): the set held every id of the last 15 minutes as a str (~88 bytes) plus its set
entry and a reference in the expiry list: ~190 bytes an event, all of it memory the process
touches for the first time while the window fills (every bench run, and the first 15 minutes
of a server). A 1,000-event batch took ~60 page faults, each a page the kernel clears: ~15 % of
a spread batch's server CPU in a profile. Here an id is 16 bytes in a table kept at most 3/4
full (~21-43 bytes an id) and 16 in its batch's packed row kept for expiry; the decoder's
strs die with their batch. Only canonical lowercase UUIDs (pack_uuids' form) are keys, so two
different strs never share a key; any other id stays in a Python set beside (the caller's).

Linear probing, deletion by backward shift (no tombstones: ids leave in the order they came).
A slot is empty when its ``used`` byte is 0, so every 16-byte value is a key. */

typedef struct {
    PyObject_HEAD
    uint64_t *keys;      /* 2 words a slot */
    unsigned char *used; /* 1: the slot holds a key */
    size_t mask;         /* capacity - 1 (a power of two) */
    size_t count;
} UuidSetObject;

#define USET_AHEAD 12  /* keys between a slot's prefetch and its probe (as _ingestseen.h) */

static inline uint64_t
uset_hash(uint64_t a, uint64_t b)
{
    /* any version of UUID: v4 is random everywhere, v1/v7 lead with a clock, so both words mix */
    uint64_t h = a ^ (b * 0x9E3779B97F4A7C15ull);
    h ^= h >> 31;
    h *= 0xBF58476D1CE4E5B9ull;
    h ^= h >> 29;
    return h;
}

/* the 16 bytes of a canonical lowercase UUID str into k; 0 when s is not one */
static inline int
uset_key(PyObject *s, unsigned char k[16])
{
    if (!PyUnicode_CheckExact(s) || !PyUnicode_IS_COMPACT_ASCII(s) || PyUnicode_GET_LENGTH(s) != 36)
        return 0;
    const unsigned char *c = (const unsigned char *)PyUnicode_DATA(s);
    if (c[8] != '-' || c[13] != '-' || c[18] != '-' || c[23] != '-')
        return 0;
    int bad = 0;
    for (int j = 0; j < 16; j++) {
        int hi = uuid_hexval[c[uuid_at[j]]], lo = uuid_hexval[c[uuid_at[j] + 1]];
        bad |= !hi | !lo;
        k[j] = (unsigned char)((((unsigned)hi - 1u) << 4) | (((unsigned)lo - 1u) & 15u));
    }
    return !bad;
}

static int
uset_alloc(UuidSetObject *u, size_t cap)
{
    uint64_t *keys = PyMem_Malloc(cap * 16);
    unsigned char *used = PyMem_Calloc(cap, 1);
    if (keys == NULL || used == NULL) {
        PyMem_Free(keys);
        PyMem_Free(used);
        PyErr_NoMemory();
        return -1;
    }
    u->keys = keys;
    u->used = used;
    u->mask = cap - 1;
    return 0;
}

/* 1 added, 0 already there (no growth here: the caller makes room first) */
static inline int
uset_insert(UuidSetObject *u, uint64_t a, uint64_t b, uint64_t h)
{
    size_t i = (size_t)h & u->mask;
    while (u->used[i]) {
        if (u->keys[2 * i] == a && u->keys[2 * i + 1] == b)
            return 0;
        i = (i + 1) & u->mask;
    }
    u->used[i] = 1;
    u->keys[2 * i] = a;
    u->keys[2 * i + 1] = b;
    u->count++;
    return 1;
}

/* room for ``more`` keys beyond the count at most 3/4 full; -1 on no memory */
static int
uset_reserve(UuidSetObject *u, size_t more)
{
    size_t need = u->count + more, cap = u->mask + 1;
    if (need * 4 <= cap * 3)
        return 0;
    while (need * 4 > cap * 3)
        cap *= 2;
    uint64_t *old_keys = u->keys;
    unsigned char *old_used = u->used;
    size_t old_cap = u->mask + 1;
    if (uset_alloc(u, cap) < 0) {
        u->keys = old_keys;
        u->used = old_used;
        return -1;
    }
    u->count = 0;
    for (size_t i = 0; i < old_cap; i++)
        if (old_used[i])
            uset_insert(u, old_keys[2 * i], old_keys[2 * i + 1], uset_hash(old_keys[2 * i], old_keys[2 * i + 1]));
    PyMem_Free(old_keys);
    PyMem_Free(old_used);
    return 0;
}

static inline int
uset_has(UuidSetObject *u, uint64_t a, uint64_t b)
{
    size_t i = (size_t)uset_hash(a, b) & u->mask;
    while (u->used[i]) {
        if (u->keys[2 * i] == a && u->keys[2 * i + 1] == b)
            return 1;
        i = (i + 1) & u->mask;
    }
    return 0;
}

/* 1 removed, 0 not there; the keys after it in its run shift back into the hole */
static int
uset_remove(UuidSetObject *u, uint64_t a, uint64_t b)
{
    size_t mask = u->mask, i = (size_t)uset_hash(a, b) & mask;
    while (u->used[i]) {
        if (u->keys[2 * i] == a && u->keys[2 * i + 1] == b)
            break;
        i = (i + 1) & mask;
    }
    if (!u->used[i])
        return 0;
    size_t j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (!u->used[j])
            break;
        size_t home = (size_t)uset_hash(u->keys[2 * j], u->keys[2 * j + 1]) & mask;
        /* the key at j may move to the hole at i if its home is not in (i, j] (cyclically) */
        int stays = (i <= j) ? (i < home && home <= j) : (i < home || home <= j);
        if (!stays) {
            u->keys[2 * i] = u->keys[2 * j];
            u->keys[2 * i + 1] = u->keys[2 * j + 1];
            i = j;
        }
    }
    u->used[i] = 0;
    u->count--;
    return 1;
}

static PyObject *
uset_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    if (!_PyArg_NoPositional("UuidSet", args) || !_PyArg_NoKeywords("UuidSet", kwds))
        return NULL;
    UuidSetObject *u = (UuidSetObject *)type->tp_alloc(type, 0);
    if (u == NULL)
        return NULL;
    if (uset_alloc(u, 1024) < 0) {
        Py_DECREF(u);
        return NULL;
    }
    u->count = 0;
    return (PyObject *)u;
}

static void
uset_dealloc(UuidSetObject *u)
{
    PyMem_Free(u->keys);
    PyMem_Free(u->used);
    Py_TYPE(u)->tp_free((PyObject *)u);
}

static Py_ssize_t
uset_len(UuidSetObject *u)
{
    return (Py_ssize_t)u->count;
}

PyDoc_STRVAR(uset_admit_doc,
"admit(ids, other) -> (list[bool] | None, bytes | None)\n\n"
"Add each id of ``ids`` (a list of str): a canonical UUID to this table, any other id to the set\n"
"``other``. An id is fresh when it was in neither before and not earlier in ``ids``. Answers\n"
"(None when every id is fresh, else each id's answer; the ids packed as pack_uuids does when\n"
"every one is a UUID, else None). On an error nothing stays added.");

static PyObject *
uset_admit(UuidSetObject *u, PyObject *args)
{
    PyObject *ids, *other;
    if (!PyArg_ParseTuple(args, "O!O!", &PyList_Type, &ids, &PySet_Type, &other))
        return NULL;
    Py_ssize_t n = PyList_GET_SIZE(ids);
    for (Py_ssize_t i = 0; i < n; i++)  /* str only: adding to ``other`` runs no Python code */
        if (!PyUnicode_CheckExact(PyList_GET_ITEM(ids, i))) {
            PyErr_SetString(PyExc_TypeError, "UuidSet.admit: ids must be str");
            return NULL;
        }
    PyObject *packed = PyBytes_FromStringAndSize(NULL, n * 16);
    unsigned char *is_key = PyMem_Malloc(n ? (size_t)n : 1), *fresh = PyMem_Malloc(n ? (size_t)n : 1);
    uint64_t *hashes = PyMem_Malloc((n ? (size_t)n : 1) * sizeof(uint64_t));
    if (packed == NULL || is_key == NULL || fresh == NULL || hashes == NULL) {
        Py_XDECREF(packed);
        PyMem_Free(is_key);
        PyMem_Free(fresh);
        PyMem_Free(hashes);
        return PyErr_NoMemory();
    }
    unsigned char *w = (unsigned char *)PyBytes_AS_STRING(packed);
    Py_ssize_t keys = 0;
    for (Py_ssize_t i = 0; i < n; i++) {  /* keys written densely: packed holds the UUIDs in order */
        if ((is_key[i] = (unsigned char)uset_key(PyList_GET_ITEM(ids, i), w + 16 * keys))) {
            uint64_t a, b;
            memcpy(&a, w + 16 * keys, 8);
            memcpy(&b, w + 16 * keys + 8, 8);
            hashes[keys++] = uset_hash(a, b);
        }
    }
    PyObject *out = NULL;
    if (uset_reserve(u, (size_t)keys) < 0)
        goto done;
    for (Py_ssize_t j = 0; j < keys && j < USET_AHEAD; j++)
        __builtin_prefetch(&u->used[(size_t)hashes[j] & u->mask]);
    Py_ssize_t kept = 0, i, k = 0;
    for (i = 0; i < n; i++) {
        if (is_key[i]) {
            if (k + USET_AHEAD < keys) {
                size_t at = (size_t)hashes[k + USET_AHEAD] & u->mask;
                __builtin_prefetch(&u->used[at]);
                __builtin_prefetch(&u->keys[2 * at]);
            }
            uint64_t a, b;
            memcpy(&a, w + 16 * k, 8);
            memcpy(&b, w + 16 * k + 8, 8);
            fresh[i] = (unsigned char)uset_insert(u, a, b, hashes[k]);
            k++;
        } else {
            Py_ssize_t before = PySet_GET_SIZE(other);
            if (PySet_Add(other, PyList_GET_ITEM(ids, i)) < 0)
                break;
            fresh[i] = PySet_GET_SIZE(other) > before;
        }
        kept += fresh[i];
    }
    if (i == n) {
        PyObject *answers = NULL;
        if (kept == n) {
            answers = Py_NewRef(Py_None);
        } else if ((answers = PyList_New(n)) != NULL) {
            for (Py_ssize_t j = 0; j < n; j++)
                PyList_SET_ITEM(answers, j, Py_NewRef(fresh[j] ? Py_True : Py_False));
        }
        if (answers != NULL)
            out = Py_BuildValue("(NO)", answers, keys == n ? packed : Py_None);
    }
    if (out == NULL) {  /* undo: what this call added leaves again */
        PyObject *exc_type, *exc_value, *exc_tb;
        PyErr_Fetch(&exc_type, &exc_value, &exc_tb);
        k = 0;
        for (Py_ssize_t j = 0; j < i; j++) {
            if (is_key[j]) {
                uint64_t a, b;
                memcpy(&a, w + 16 * k, 8);
                memcpy(&b, w + 16 * k + 8, 8);
                k++;
                if (fresh[j])
                    uset_remove(u, a, b);
            } else if (fresh[j] && PySet_Discard(other, PyList_GET_ITEM(ids, j)) < 0) {
                PyErr_Clear();
            }
        }
        PyErr_Restore(exc_type, exc_value, exc_tb);
    }
done:
    Py_DECREF(packed);
    PyMem_Free(is_key);
    PyMem_Free(fresh);
    PyMem_Free(hashes);
    return out;
}

/* the packed keys of a bytes-like object: data and count, or -1 with an error set */
static Py_ssize_t
uset_packed(PyObject *data, Py_buffer *view)
{
    if (PyObject_GetBuffer(data, view, PyBUF_SIMPLE) < 0)
        return -1;
    if (view->len % 16) {
        PyBuffer_Release(view);
        PyErr_SetString(PyExc_ValueError, "UuidSet: not a whole number of 16-byte ids");
        return -1;
    }
    return view->len / 16;
}

PyDoc_STRVAR(uset_add_packed_doc,
"add_packed(data) -> int\n\n"
"Add the ids packed in ``data`` (16 bytes each, as pack_uuids writes them); how many were new.");

static PyObject *
uset_add_packed(UuidSetObject *u, PyObject *data)
{
    Py_buffer view;
    Py_ssize_t n = uset_packed(data, &view);
    if (n < 0)
        return NULL;
    if (uset_reserve(u, (size_t)n) < 0) {
        PyBuffer_Release(&view);
        return NULL;
    }
    const unsigned char *r = view.buf;
    Py_ssize_t added = 0;
    for (Py_ssize_t i = 0; i < n; i++, r += 16) {
        uint64_t a, b;
        memcpy(&a, r, 8);
        memcpy(&b, r + 8, 8);
        added += uset_insert(u, a, b, uset_hash(a, b));
    }
    PyBuffer_Release(&view);
    return PyLong_FromSsize_t(added);
}

PyDoc_STRVAR(uset_discard_packed_doc,
"discard_packed(data) -> int\n\n"
"Remove the ids packed in ``data`` (16 bytes each); how many were there.");

static PyObject *
uset_discard_packed(UuidSetObject *u, PyObject *data)
{
    Py_buffer view;
    Py_ssize_t n = uset_packed(data, &view);
    if (n < 0)
        return NULL;
    const unsigned char *r = view.buf;
    Py_ssize_t gone = 0;
    for (Py_ssize_t i = 0; i < n; i++, r += 16) {
        uint64_t a, b;
        memcpy(&a, r, 8);
        memcpy(&b, r + 8, 8);
        gone += uset_remove(u, a, b);
    }
    PyBuffer_Release(&view);
    return PyLong_FromSsize_t(gone);
}

PyDoc_STRVAR(uset_has_doc,
"has(id) -> bool | None\n\n"
"Whether the UUID ``id`` (a str) is held; None when ``id`` is not a canonical UUID (not a key).");

static PyObject *
uset_has_id(UuidSetObject *u, PyObject *s)
{
    unsigned char k[16];
    if (!uset_key(s, k))
        Py_RETURN_NONE;
    uint64_t a, b;
    memcpy(&a, k, 8);
    memcpy(&b, k + 8, 8);
    return PyBool_FromLong(uset_has(u, a, b));
}

PyDoc_STRVAR(uset_dump_doc,
"dump() -> bytes\n\n"
"Every key held, 16 bytes each, in the table's order (for iteration and tests).");

static PyObject *
uset_dump(UuidSetObject *u, PyObject *Py_UNUSED(ignored))
{
    PyObject *out = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)u->count * 16);
    if (out == NULL)
        return NULL;
    unsigned char *w = (unsigned char *)PyBytes_AS_STRING(out);
    for (size_t i = 0; i <= u->mask; i++)
        if (u->used[i]) {
            memcpy(w, &u->keys[2 * i], 16);
            w += 16;
        }
    return out;
}

PyDoc_STRVAR(uset_clear_doc, "clear()\n\nRemove every key.");

static PyObject *
uset_clear(UuidSetObject *u, PyObject *Py_UNUSED(ignored))
{
    memset(u->used, 0, u->mask + 1);
    u->count = 0;
    Py_RETURN_NONE;
}

static PyMethodDef uset_methods[] = {
    {"admit", (PyCFunction)uset_admit, METH_VARARGS, uset_admit_doc},
    {"add_packed", (PyCFunction)uset_add_packed, METH_O, uset_add_packed_doc},
    {"discard_packed", (PyCFunction)uset_discard_packed, METH_O, uset_discard_packed_doc},
    {"has", (PyCFunction)uset_has_id, METH_O, uset_has_doc},
    {"dump", (PyCFunction)uset_dump, METH_NOARGS, uset_dump_doc},
    {"clear", (PyCFunction)uset_clear, METH_NOARGS, uset_clear_doc},
    {NULL, NULL, 0, NULL},
};

static PySequenceMethods uset_as_sequence = {
    .sq_length = (lenfunc)uset_len,
};

static PyTypeObject UuidSetType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "fenghuo.monitor._ingestnative.UuidSet",
    .tp_basicsize = sizeof(UuidSetObject),
    .tp_dealloc = (destructor)uset_dealloc,
    .tp_as_sequence = &uset_as_sequence,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "UUID ids as 16-byte keys (the dedup window, see _ingestuuidset.h).",
    .tp_methods = uset_methods,
    .tp_new = uset_new,
};
