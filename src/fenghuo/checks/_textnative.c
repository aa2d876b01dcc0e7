/* Per-character work of the content checks on a short message, in one C call each.

Why C: on a 50-character chat message the numpy path of ``LexiconCheck.scan`` is ~7 calls
before hyperscan sees a byte (UTF-32 encode, frombuffer, intp cast, gather, tobytes,
translate, memchr), each ~0.3-0.7 µs of call overhead for ~50 table lookups; measured
(docs in bench/checks_short.py, ``_SHORT_HISTORY``) that left ``scan`` at 2.6-2.7x bare
hyperscan's keyword form and ~4x its positional form, and ``Normaliser.normalise`` at
~6 µs of a 22-50 µs pipeline. Both loops here read the str's own storage (no encode) and
write the finished bytes once. The numpy path stays as the fallback (FENGHUO_NATIVE=0)
and tests/checks/test_text_native.py checks both give the same bytes.

Only the CPython buffer protocol is used (no numpy headers): the tables are numpy arrays
whose buffers are held for the kernel's lifetime; results are bytes/bytearray objects that
Python wraps with ``np.frombuffer``.

Table layouts (built in Python, see normalize.py and variants.py):
  single  uint32[ncp]      normalised code point in the matcher's quad form, or
                           0xFFFFFFFF (dropped) / 0xFFFFFFFE (expands to several characters)
  fused4  uint32[2 * ncp]  per code point 4 bytes (3 bytes of the main form + a 0 pad) in
                           the first half, the homophone form's in the second; a dropped
                           character is 4 zero bytes, an expanded one 01 01 01 00.
*/
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define DROP_CODE 0xFFFFFFFFu
#define EXPAND_CODE 0xFFFFFFFEu

typedef struct {
    PyObject_HEAD
    Py_buffer single;     /* uint32[ncp] */
    Py_buffer fused;      /* uint32[2 * ncp], or buf == NULL */
    Py_ssize_t ncp;
} Kernel;

static int
get_table(PyObject *obj, Py_buffer *view, Py_ssize_t items, const char *what)
{
    if (PyObject_GetBuffer(obj, view, PyBUF_C_CONTIGUOUS) < 0)
        return -1;
    if (view->len != items * 4) {
        PyErr_Format(PyExc_ValueError, "%s: expected %zd bytes, got %zd", what, items * 4, view->len);
        PyBuffer_Release(view);
        view->buf = NULL;
        return -1;
    }
    return 0;
}

static int
Kernel_init(Kernel *self, PyObject *args, PyObject *kwds)
{
    PyObject *single, *fused = Py_None;
    static char *kwlist[] = {"single", "fused", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|O", kwlist, &single, &fused))
        return -1;
    if (self->single.buf != NULL)  /* __init__ called twice */
        PyBuffer_Release(&self->single);
    if (self->fused.buf != NULL)
        PyBuffer_Release(&self->fused);
    self->single.buf = self->fused.buf = NULL;
    Py_buffer probe;
    if (PyObject_GetBuffer(single, &probe, PyBUF_C_CONTIGUOUS) < 0)
        return -1;
    self->ncp = probe.len / 4;
    PyBuffer_Release(&probe);
    if (self->ncp < 0x110000) {
        PyErr_SetString(PyExc_ValueError, "single: the table must cover every code point (0x110000)");
        return -1;
    }
    if (get_table(single, &self->single, self->ncp, "single") < 0)
        return -1;
    if (fused != Py_None && get_table(fused, &self->fused, 2 * self->ncp, "fused") < 0)
        return -1;
    return 0;
}

static void
Kernel_dealloc(Kernel *self)
{
    if (self->single.buf != NULL)
        PyBuffer_Release(&self->single);
    if (self->fused.buf != NULL)
        PyBuffer_Release(&self->fused);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* Reads code point i of a ready str of the given kind. */
#define CP(kind, data, i) \
    ((kind) == PyUnicode_1BYTE_KIND ? ((const Py_UCS1 *)(data))[i] \
     : (kind) == PyUnicode_2BYTE_KIND ? ((const Py_UCS2 *)(data))[i] : ((const Py_UCS4 *)(data))[i])

static int
ready(Kernel *self, PyObject *text)
{
    if (!PyUnicode_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "expected a str");
        return -1;
    }
    if (PyUnicode_READY(text) < 0)
        return -1;
    if (self->single.buf == NULL) {
        PyErr_SetString(PyExc_ValueError, "kernel not initialised");
        return -1;
    }
    return 0;
}

/* fuse(text) -> bytes | None

The lexicon's one scan input: the main form (3 bytes per kept character) followed by the
homophone form (3 bytes per kept character), dropped characters left out; None when a
character expands to several (the caller takes the general path). Same bytes as
``fused4.take(raw, axis=1).tobytes().translate(None, FUSED_DROP)``.

Tried and left out: scanning the homophone form only when three consecutive characters begin
a homophone pattern (an exact set of the patterns' first three codes, with a pair bitmap in
front): 21 of 2,000 COLD cuts need it with the shipped lexicon and hyperscan then scans half
the bytes (~0.3 µs less per 50-character message), but the per-character test cost as much
(fuse 0.29 -> 0.58 µs; scan plus fuse 1.62 vs 1.63 µs, load ~10). */
static PyObject *
Kernel_fuse(Kernel *self, PyObject *text)
{
    if (ready(self, text) < 0)
        return NULL;
    if (self->fused.buf == NULL) {
        PyErr_SetString(PyExc_ValueError, "kernel has no fused table");
        return NULL;
    }
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    const unsigned char *t0 = (const unsigned char *)self->fused.buf;
    const unsigned char *t1 = t0 + 4 * self->ncp;
    PyObject *out = PyBytes_FromStringAndSize(NULL, 6 * n);
    if (out == NULL)
        return NULL;
    unsigned char *main = (unsigned char *)PyBytes_AS_STRING(out);
    unsigned char *homo = main + 3 * n;  /* written here first, moved down once k is known */
    Py_ssize_t k = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 cp = CP(kind, data, i);
        const unsigned char *a = t0 + 4 * (size_t)cp;
        if (a[0] <= 1) {
            if (a[0] == 0)
                continue;  /* dropped */
            Py_DECREF(out);  /* expands: not handled here */
            Py_RETURN_NONE;
        }
        const unsigned char *b = t1 + 4 * (size_t)cp;
        unsigned char *m = main + 3 * k, *h = homo + 3 * k;
        m[0] = a[0]; m[1] = a[1]; m[2] = a[2];
        h[0] = b[0]; h[1] = b[1]; h[2] = b[2];
        k++;
    }
    if (k < n) {
        memmove(main + 3 * k, homo, 3 * (size_t)k);
        if (_PyBytes_Resize(&out, 6 * k) < 0)
            return NULL;
    }
    return out;
}

/* normalise(text) -> (both, steps, kept) | None

``Normaliser.normalise_codes`` of a text in one pass, None when a character expands. both:
a bytearray of uint32, the original code points (n) followed by the kept characters' quad
codes, so one ``np.frombuffer`` and two slices make ``raw`` and ``codes`` (a frombuffer costs
~0.6 µs, a slice ~0.1 µs on the machine measured); steps: bytes of intp, where the j-th dropped
character at original index i is a step at normalised index i - j, and kept: bytes of 0/1 per
original character — both None when nothing was dropped. */
static PyObject *
Kernel_normalise(Kernel *self, PyObject *text)
{
    if (ready(self, text) < 0)
        return NULL;
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    const uint32_t *single = (const uint32_t *)self->single.buf;
    PyObject *both = NULL, *steps = NULL, *kept = NULL;
    both = PyByteArray_FromStringAndSize(NULL, 8 * n);
    if (both == NULL)
        return NULL;
    uint32_t *r = (uint32_t *)PyByteArray_AS_STRING(both);  /* malloc'ed: aligned */
    uint32_t *c = r + n;
    Py_ssize_t k = 0, first_drop = -1;
    for (Py_ssize_t i = 0; i < n; i++) {
        uint32_t cp = CP(kind, data, i);
        uint32_t q = single[cp];
        r[i] = cp;
        if (q >= EXPAND_CODE) {
            if (q == EXPAND_CODE) {
                Py_DECREF(both);
                Py_RETURN_NONE;
            }
            if (first_drop < 0)
                first_drop = i;
            continue;
        }
        c[k++] = q;
    }
    if (k < n) {
        /* Steps and kept flags from the first drop on (35 % of COLD cuts drop something). */
        Py_ssize_t ndrop = n - k;
        steps = PyBytes_FromStringAndSize(NULL, ndrop * (Py_ssize_t)sizeof(Py_ssize_t));
        kept = PyBytes_FromStringAndSize(NULL, n);
        if (steps == NULL || kept == NULL)
            goto fail;
        Py_ssize_t *s = (Py_ssize_t *)PyBytes_AS_STRING(steps);
        unsigned char *f = (unsigned char *)PyBytes_AS_STRING(kept);
        memset(f, 1, first_drop);
        Py_ssize_t j = 0;
        for (Py_ssize_t i = first_drop; i < n; i++) {
            int d = single[r[i]] == DROP_CODE;
            f[i] = !d;
            if (d) {
                s[j] = i - j;
                j++;
            }
        }
        if (PyByteArray_Resize(both, 4 * (n + k)) < 0)
            goto fail;
    } else {
        steps = Py_NewRef(Py_None);
        kept = Py_NewRef(Py_None);
    }
    PyObject *res = PyTuple_Pack(3, both, steps, kept);
    Py_DECREF(both);
    Py_DECREF(steps);
    Py_DECREF(kept);
    return res;
fail:
    Py_XDECREF(both);
    Py_XDECREF(steps);
    Py_XDECREF(kept);
    return NULL;
}

static PyMethodDef Kernel_methods[] = {
    {"fuse", (PyCFunction)Kernel_fuse, METH_O,
     "fuse(text) -> bytes | None: main then homophone 3-byte forms of the kept characters."},
    {"normalise", (PyCFunction)Kernel_normalise, METH_O,
     "normalise(text) -> (both, steps, kept) | None: see the module source."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject KernelType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "fenghuo.checks._textnative.Kernel",
    .tp_basicsize = sizeof(Kernel),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Kernel(single, fused=None): a normalisation table (and the lexicon's fused table).",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Kernel_init,
    .tp_dealloc = (destructor)Kernel_dealloc,
    .tp_methods = Kernel_methods,
};

static struct PyModuleDef textnative_module = {
    PyModuleDef_HEAD_INIT, "_textnative",
    "Per-character normalisation and lexicon-scan input in C (see _textnative.c).", -1, NULL,
};

PyMODINIT_FUNC
PyInit__textnative(void)
{
    if (PyType_Ready(&KernelType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&textnative_module);
    if (m == NULL)
        return NULL;
    Py_INCREF(&KernelType);
    if (PyModule_AddObject(m, "Kernel", (PyObject *)&KernelType) < 0) {
        Py_DECREF(&KernelType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
