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

/* CodeSet: a literal set matched on normalised quad codes, for the rules check (session 21).

Why C: per message the rules check asked hyperscan ~6 times for literal occurrences in a few
hundred characters — a confirmation scan per rule waiting for its other factors
(rules_due.due_rules) and a scan per due pattern (LiteralIndex.occurrences) — each a call
into a different database (224 + 637 of them, 41 MB together), so each started cold (~2.5-3.5
µs measured in the pipeline against ~0.9 µs warm) and paid a Python callback per report. These
sets are small (tens to hundreds of literals), so a hash of each literal's first code and a
compare per candidate reads a few KB and returns the reports in one list: the same reports as
the hyperscan scan of the three-byte form with the ``to % 3`` test (an aligned occurrence of a
literal's bytes is an occurrence of its codes), tests/checks/test_rules_native.py compares
them. The first-stage prefilter (40,000 literals) stays with hyperscan.

CodeSet(pool, lengths, ids): ``pool`` the literals' quad codes end to end (uint32 buffer),
``lengths`` their lengths in codes (each >= 1), ``ids`` their report ids (< 2**20).
find(codes, lo, hi, base) -> list[int]: for each occurrence [s, e) of a literal inside
codes[lo:hi], ``(e - base) << 20 | id``, in order of e (then of the literals' order). */
typedef struct {
    uint32_t key;    /* a first code */
    uint32_t first;  /* its first entry */
    uint32_t count;  /* 0: empty slot */
    uint32_t second; /* bit codeset_bit(c) set for each second code c of its entries; all set
                        when one is a single code. Session 24: the entries and pool are cold
                        in the pipeline, and most first-code matches are not followed by any
                        entry's second code, so this bit saves reading them. */
} CodeSlot;

typedef struct {
    uint32_t off, len, id;
} CodeEntry;

typedef struct {
    PyObject_HEAD
    uint32_t *pool;
    CodeEntry *entries;
    CodeSlot *slots;
    uint32_t mask, shift, nentries;
} CodeSet;

static void
CodeSet_dealloc(CodeSet *self)
{
    PyMem_Free(self->pool);
    PyMem_Free(self->entries);
    PyMem_Free(self->slots);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static inline uint32_t
codeset_hash(uint32_t c, uint32_t shift)
{
    return (uint32_t)(c * 0x9E3779B1u) >> shift;
}

#define CODESET_PREFETCH 8 /* characters ahead: a slot-table miss takes as long as ~8 probes */

static inline uint32_t
codeset_bit(uint32_t c)
{
    return 1u << ((uint32_t)(c * 0x9E3779B1u) >> 27);
}

static int
codeset_cmp_first(const void *a, const void *b, const uint32_t *pool)
{
    uint32_t x = pool[((const CodeEntry *)a)->off], y = pool[((const CodeEntry *)b)->off];
    return x < y ? -1 : x > y;
}

static int
CodeSet_init(CodeSet *self, PyObject *args, PyObject *kwds)
{
    PyObject *pool_obj, *lengths, *ids;
    static char *kwlist[] = {"pool", "lengths", "ids", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OOO", kwlist, &pool_obj, &lengths, &ids))
        return -1;
    if (self->pool != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "CodeSet: already initialised");
        return -1;
    }
    Py_buffer pv;
    if (PyObject_GetBuffer(pool_obj, &pv, PyBUF_C_CONTIGUOUS) < 0)
        return -1;
    Py_ssize_t npool = pv.len / 4;
    PyObject *lf = PySequence_Fast(lengths, "lengths: expected a sequence");
    PyObject *idf = lf ? PySequence_Fast(ids, "ids: expected a sequence") : NULL;
    if (idf == NULL) {
        Py_XDECREF(lf);
        PyBuffer_Release(&pv);
        return -1;
    }
    Py_ssize_t n = PySequence_Fast_GET_SIZE(lf);
    int ok = 0;
    if (pv.len % 4 || PySequence_Fast_GET_SIZE(idf) != n || n >= (1 << 24)) {
        PyErr_SetString(PyExc_ValueError, "CodeSet: pool of uint32 codes and one length and id per literal");
        goto done;
    }
    self->pool = PyMem_Malloc((npool ? npool : 1) * 4);
    self->entries = PyMem_Malloc((n ? n : 1) * sizeof(CodeEntry));
    if (self->pool == NULL || self->entries == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    memcpy(self->pool, pv.buf, npool * 4);
    Py_ssize_t off = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        long len = PyLong_AsLong(PySequence_Fast_GET_ITEM(lf, i));
        long id = PyLong_AsLong(PySequence_Fast_GET_ITEM(idf, i));
        if (PyErr_Occurred())
            goto done;
        if (len < 1 || off + len > npool || id < 0 || id >= (1L << 20)) {
            PyErr_SetString(PyExc_ValueError, "CodeSet: a literal's length must be >= 1 and inside the pool, its id < 2**20");
            goto done;
        }
        self->entries[i].off = (uint32_t)off;
        self->entries[i].len = (uint32_t)len;
        self->entries[i].id = (uint32_t)id;
        off += len;
    }
    /* Group the entries by first code, keeping their order within a group (insertion sort:
       built once per set, and the sets are small). */
    for (Py_ssize_t i = 1; i < n; i++) {
        CodeEntry e = self->entries[i];
        Py_ssize_t j = i;
        while (j > 0 && codeset_cmp_first(&self->entries[j - 1], &e, self->pool) > 0) {
            self->entries[j] = self->entries[j - 1];
            j--;
        }
        self->entries[j] = e;
    }
    uint32_t bits = 1;
    while (((Py_ssize_t)1 << bits) < 2 * n)
        bits++;
    self->shift = 32 - bits;
    self->mask = (1u << bits) - 1;
    self->slots = PyMem_Calloc((size_t)1 << bits, sizeof(CodeSlot));
    if (self->slots == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < n;) {
        uint32_t c = self->pool[self->entries[i].off];
        Py_ssize_t j = i;
        while (j < n && self->pool[self->entries[j].off] == c)
            j++;
        uint32_t h = codeset_hash(c, self->shift);
        while (self->slots[h].count)
            h = (h + 1) & self->mask;
        self->slots[h].key = c;
        self->slots[h].first = (uint32_t)i;
        self->slots[h].count = (uint32_t)(j - i);
        for (Py_ssize_t k = i; k < j; k++)
            self->slots[h].second |= self->entries[k].len > 1 ? codeset_bit(self->pool[self->entries[k].off + 1]) : 0xFFFFFFFFu;
        i = j;
    }
    self->nentries = (uint32_t)n;
    ok = 1;
done:
    Py_DECREF(lf);
    Py_DECREF(idf);
    PyBuffer_Release(&pv);
    return ok ? 0 : -1;
}

/* The slot of the literals starting at codes[i] (i < hi <= the codes' length), or NULL when
none can: no literal starts with codes[i], or none goes on with codes[i + 1]. */
static inline const CodeSlot *
codeset_slot(const CodeSet *cs, const uint32_t *codes, Py_ssize_t i, Py_ssize_t hi)
{
    uint32_t c = codes[i];
    uint32_t h = codeset_hash(c, cs->shift);
    const CodeSlot *sl;
    for (;;) {
        sl = &cs->slots[h];
        if (!sl->count)
            return NULL;
        if (sl->key == c)
            break;
        h = (h + 1) & cs->mask;
    }
    if (i + 1 < hi && !(sl->second & codeset_bit(codes[i + 1])))
        return NULL;
    return sl;
}

static PyObject *
CodeSet_find(CodeSet *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "find(codes, lo, hi, base)");
        return NULL;
    }
    if (self->slots == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "CodeSet: not initialised");
        return NULL;
    }
    Py_ssize_t lo = PyLong_AsSsize_t(args[1]), hi = PyLong_AsSsize_t(args[2]), base = PyLong_AsSsize_t(args[3]);
    if (PyErr_Occurred())
        return NULL;
    Py_buffer v;
    if (PyObject_GetBuffer(args[0], &v, PyBUF_C_CONTIGUOUS) < 0)
        return NULL;
    if (v.len % 4) {
        PyBuffer_Release(&v);
        PyErr_SetString(PyExc_ValueError, "find: expected uint32 codes");
        return NULL;
    }
    const uint32_t *codes = (const uint32_t *)v.buf;
    Py_ssize_t size = v.len / 4;
    if (lo < 0)
        lo = 0;
    if (hi > size)
        hi = size;
    /* Reports as (end, entry index) in a small buffer, sorted by end at the close. */
    Py_ssize_t cap = 64, nrep = 0;
    uint64_t stackbuf[64];
    uint64_t *rep = stackbuf;
    for (Py_ssize_t i = lo; i < hi; i++) {
        /* The slot table is cold in the pipeline (other checks ran since): ask for the slot
           of a few characters ahead, so the misses overlap instead of queueing. */
        if (i + CODESET_PREFETCH < hi)
            __builtin_prefetch(&self->slots[codeset_hash(codes[i + CODESET_PREFETCH], self->shift)]);
        const CodeSlot *sl = codeset_slot(self, codes, i, hi);
        if (sl == NULL)
            continue;
        for (uint32_t k = sl->first; k < sl->first + sl->count; k++) {
            const CodeEntry *e = &self->entries[k];
            if (i + (Py_ssize_t)e->len > hi)
                continue;
            if (e->len > 1 && memcmp(codes + i + 1, self->pool + e->off + 1, (size_t)(e->len - 1) * 4))
                continue;
            if (nrep == cap) {
                uint64_t *bigger = PyMem_Malloc(2 * cap * sizeof(uint64_t));
                if (bigger == NULL) {
                    if (rep != stackbuf)
                        PyMem_Free(rep);
                    PyBuffer_Release(&v);
                    return PyErr_NoMemory();
                }
                memcpy(bigger, rep, nrep * sizeof(uint64_t));
                if (rep != stackbuf)
                    PyMem_Free(rep);
                rep = bigger;
                cap *= 2;
            }
            rep[nrep++] = ((uint64_t)(i + e->len) << 24) | k;
        }
    }
    PyBuffer_Release(&v);
    /* Insertion sort by (end, entry index): reports come by start, few out of end order. */
    for (Py_ssize_t i = 1; i < nrep; i++) {
        uint64_t x = rep[i];
        Py_ssize_t j = i;
        while (j > 0 && rep[j - 1] > x) {
            rep[j] = rep[j - 1];
            j--;
        }
        rep[j] = x;
    }
    PyObject *out = PyList_New(nrep);
    if (out != NULL) {
        for (Py_ssize_t i = 0; i < nrep; i++) {
            Py_ssize_t end = (Py_ssize_t)(rep[i] >> 24);
            uint32_t id = self->entries[rep[i] & 0xFFFFFF].id;
            PyObject *x = PyLong_FromSsize_t(((end - base) << 20) | id);
            if (x == NULL) {
                Py_CLEAR(out);
                break;
            }
            PyList_SET_ITEM(out, i, x);
        }
    }
    if (rep != stackbuf)
        PyMem_Free(rep);
    return out;
}

static PyMethodDef CodeSet_methods[] = {
    {"find", (PyCFunction)(void (*)(void))CodeSet_find, METH_FASTCALL,
     "find(codes, lo, hi, base) -> list[int]: (end - base) << 20 | id per occurrence inside codes[lo:hi]."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject CodeSetType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "fenghuo.checks._textnative.CodeSet",
    .tp_basicsize = sizeof(CodeSet),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "CodeSet(pool, lengths, ids): literals matched on quad codes (see _textnative.c).",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)CodeSet_init,
    .tp_dealloc = (destructor)CodeSet_dealloc,
    .tp_methods = CodeSet_methods,
};

#include "_rules_due.h" /* DuePlan: rules_due.due_rules in C, on CodeSet's tables */

/* decode_quad(codes) -> str: the normalised text of quad codes (uint32 each, the buffer of
``Normalised.codes``), as ``rules_message.decode_text`` computes it with two table gathers.
Why C (session 21): the rules check decodes the normalised text of every message some rule is
due on (about half of the COLD 1 KB cuts); the gathers read a 256 KB table and cost ~7.5 µs
per 1 KB cut in a loop, more in the pipeline, where this loop costs ~1 µs. Quad form
(normalize_table.encode_quad), little-endian bytes 0x80, 0x80|cp>>14, 0x80|(cp>>7)&0x7f,
0x80|cp&0x7f. Surrogate code points pass through (as "surrogatepass"); anything beyond
U+10FFFF is a ValueError (the normaliser never writes one). */
static PyObject *
textnative_decode_quad(PyObject *Py_UNUSED(module), PyObject *arg)
{
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_C_CONTIGUOUS) < 0)
        return NULL;
    if (view.len % 4) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "decode_quad: expected 4-byte codes");
        return NULL;
    }
    Py_ssize_t n = view.len / 4;
    const unsigned char *b = (const unsigned char *)view.buf;
    Py_UCS4 maxchar = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 cp = ((Py_UCS4)(b[4 * i + 1] & 0x7F) << 14) | ((Py_UCS4)(b[4 * i + 2] & 0x7F) << 7) | (b[4 * i + 3] & 0x7F);
        if (cp > maxchar)
            maxchar = cp;
    }
    if (maxchar > 0x10FFFF) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "decode_quad: a code beyond U+10FFFF");
        return NULL;
    }
    PyObject *out = PyUnicode_New(n, maxchar);
    if (out == NULL) {
        PyBuffer_Release(&view);
        return NULL;
    }
    int kind = PyUnicode_KIND(out);
    void *data = PyUnicode_DATA(out);
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 cp = ((Py_UCS4)(b[4 * i + 1] & 0x7F) << 14) | ((Py_UCS4)(b[4 * i + 2] & 0x7F) << 7) | (b[4 * i + 3] & 0x7F);
        PyUnicode_WRITE(kind, data, i, cp);
    }
    PyBuffer_Release(&view);
    return out;
}

static PyMethodDef textnative_functions[] = {
    {"decode_quad", textnative_decode_quad, METH_O,
     "decode_quad(codes) -> str: the text of quad codes (see rules_message.decode_text)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef textnative_module = {
    PyModuleDef_HEAD_INIT, "_textnative",
    "Per-character normalisation and lexicon-scan input in C (see _textnative.c).", -1, textnative_functions,
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
    if (PyType_Ready(&CodeSetType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    Py_INCREF(&CodeSetType);
    if (PyModule_AddObject(m, "CodeSet", (PyObject *)&CodeSetType) < 0) {
        Py_DECREF(&CodeSetType);
        Py_DECREF(m);
        return NULL;
    }
    if (PyType_Ready(&DuePlanType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    Py_INCREF(&DuePlanType);
    if (PyModule_AddObject(m, "DuePlan", (PyObject *)&DuePlanType) < 0) {
        Py_DECREF(&DuePlanType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
