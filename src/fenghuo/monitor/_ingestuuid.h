/* The dedup row's packed form (monitor/seenrows.py): a batch's ids as 16 bytes each when every
id is a canonical UUID (36 characters, lowercase hex, hyphens at 8, 13, 18 and 23), the form
guards send.

Why C: the row is written for every batch (the durable dedup row, monitor.dedup), and the JSON
array of 1,000 ids is 37 KB of SQLite insert and WAL (and checkpoint) work a batch; 16 KB packed.
Checking and packing the ids in Python (join, slices, bytes.fromhex, a round trip to tell
lowercase) costs about what the smaller row saves; here it is one pass over the ids' bytes.
Unpacking is the reload at start-up (every id of the window), one str per id. */

static const signed char uuid_hexval[256] = {
    ['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6, ['6'] = 7, ['7'] = 8,
    ['8'] = 9, ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
};  /* value + 1 of a lowercase hex digit, 0 for anything else (uppercase is not canonical) */

static const char uuid_hexdig[] = "0123456789abcdef";
/* where each byte's two digits start in the 36 characters */
static const unsigned char uuid_at[16] = {0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34};

PyDoc_STRVAR(pack_uuids_doc,
"pack_uuids(ids) -> bytes | None\n\n"
"The ids (a list) as 16 bytes each, in order, when every one is a str holding a canonical\n"
"lowercase UUID (8-4-4-4-12 hex digits); None when any is not (the caller keeps JSON).");

static PyObject *
pack_uuids(PyObject *self, PyObject *ids)
{
    if (!PyList_CheckExact(ids)) {
        PyErr_SetString(PyExc_TypeError, "pack_uuids: a list");
        return NULL;
    }
    Py_ssize_t n = PyList_GET_SIZE(ids);
    PyObject *out = PyBytes_FromStringAndSize(NULL, n * 16);
    if (out == NULL)
        return NULL;
    unsigned char *w = (unsigned char *)PyBytes_AS_STRING(out);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *s = PyList_GET_ITEM(ids, i);
        /* compact ASCII str of 36 characters only: its bytes are the characters */
        if (!PyUnicode_CheckExact(s) || !PyUnicode_IS_COMPACT_ASCII(s) || PyUnicode_GET_LENGTH(s) != 36)
            goto not_uuid;
        const unsigned char *c = (const unsigned char *)PyUnicode_DATA(s);
        if (c[8] != '-' || c[13] != '-' || c[18] != '-' || c[23] != '-')
            goto not_uuid;
        int bad = 0;
        for (int k = 0; k < 16; k++) {  /* no branch per digit: a bad one marks the id */
            int hi = uuid_hexval[c[uuid_at[k]]], lo = uuid_hexval[c[uuid_at[k] + 1]];
            bad |= !hi | !lo;
            w[k] = (unsigned char)((((unsigned)hi - 1u) << 4) | (((unsigned)lo - 1u) & 15u));
        }
        if (bad)
            goto not_uuid;
        w += 16;
    }
    return out;
not_uuid:
    Py_DECREF(out);
    Py_RETURN_NONE;
}

PyDoc_STRVAR(unpack_uuids_doc,
"unpack_uuids(data) -> list[str]\n\n"
"The canonical lowercase UUID strs of ``data`` (bytes from pack_uuids: 16 bytes an id).");

static PyObject *
unpack_uuids(PyObject *self, PyObject *data)
{
    if (!PyBytes_CheckExact(data)) {
        PyErr_SetString(PyExc_TypeError, "unpack_uuids: bytes");
        return NULL;
    }
    Py_ssize_t size = PyBytes_GET_SIZE(data);
    if (size % 16) {
        PyErr_SetString(PyExc_ValueError, "unpack_uuids: not a whole number of 16-byte ids");
        return NULL;
    }
    const unsigned char *r = (const unsigned char *)PyBytes_AS_STRING(data);
    Py_ssize_t n = size / 16;
    PyObject *out = PyList_New(n);
    if (out == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < n; i++, r += 16) {
        PyObject *s = PyUnicode_New(36, 127);
        if (s == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        char *c = (char *)PyUnicode_DATA(s);
        c[8] = c[13] = c[18] = c[23] = '-';
        for (int k = 0; k < 16; k++) {
            c[uuid_at[k]] = uuid_hexdig[r[k] >> 4];
            c[uuid_at[k] + 1] = uuid_hexdig[r[k] & 15];
        }
        PyList_SET_ITEM(out, i, s);
    }
    return out;
}
