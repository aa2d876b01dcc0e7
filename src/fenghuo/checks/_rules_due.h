/* due_pending: the rules check's pending-rule test (rules_due.due_rules) in one C call per
message, included by _textnative.c after the CodeSet type (it reads CodeSet's tables).

Why C (session 23, measured): on a ~1 KB COLD dev cut ~5 rules are pending (a key literal
occurs; the clause's other factors must occur near it), and for ~3.7 of them the other
factors' literal set finds something in the stretch, nearly always too far or incomplete
(0.5 rules due per cut). In Python each pending rule cost ~5 µs in the pipeline (the stretch
loop over the hits, CodeSet.find, the per-factor lists of confirm_hits, the clause loop with
near_all): ~25 µs of the check's ~57 µs p50. Here the same steps run over C arrays. The
answers are those of the Python loop, which stays for what this does not take (a rule with
an original-text factor or a database hyperscan matches: no CodeSet) and for FENGHUO_NATIVE=0;
tests/checks/test_rules_native.py holds the two equal.

due_pending(pending, sets, facs, hits, kl, codes, near_ok) -> (due, rest):
  pending  tuple of (r, width|None, strict, mine, recs, d) as rules_due.due_entry makes them;
  sets     LiteralIndex.confirm_sets (per confirmation database a CodeSet or None);
  facs     LiteralIndex.confirm_factor (per database: literal id -> factor index);
  hits     the first-stage hits (end << 20 | literal id); kl: key literal lengths by id;
  codes    the message's normalised codes (uint32); near_ok: nothing expanded (n.shift is None).
  due      list of the rule indices r found due; rest: the pending tuples left to Python. */

#define DUE_HIT_BITS 20
#define DUE_HIT_MASK ((1L << DUE_HIT_BITS) - 1)

typedef struct {
    Py_ssize_t s, e;
    long f;
} DueOcc;

static int
dueocc_cmp(const void *a, const void *b)
{
    const DueOcc *x = a, *y = b;
    if (x->f != y->f)
        return x->f < y->f ? -1 : 1;
    return x->s < y->s ? -1 : x->s > y->s;
}

/* Every occurrence of a literal of ``cs`` inside codes[lo:hi], as (start, end, factor); the
same occurrences CodeSet.find reports. Returns the count, or -1 (memory, set error). */
static Py_ssize_t
due_collect(CodeSet *cs, PyObject *fac, const uint32_t *codes, Py_ssize_t lo, Py_ssize_t hi, DueOcc **buf, Py_ssize_t *cap)
{
    Py_ssize_t n = 0;
    Py_ssize_t nfac = PyList_GET_SIZE(fac);
    for (Py_ssize_t i = lo; i < hi; i++) {
        uint32_t c = codes[i];
        uint32_t h = codeset_hash(c, cs->shift);
        const CodeSlot *sl;
        for (;;) {
            sl = &cs->slots[h];
            if (!sl->count || sl->key == c)
                break;
            h = (h + 1) & cs->mask;
        }
        if (!sl->count)
            continue;
        for (uint32_t k = sl->first; k < sl->first + sl->count; k++) {
            const CodeEntry *e = &cs->entries[k];
            if (i + (Py_ssize_t)e->len > hi)
                continue;
            if (e->len > 1 && memcmp(codes + i + 1, cs->pool + e->off + 1, (size_t)(e->len - 1) * 4))
                continue;
            if ((Py_ssize_t)e->id >= nfac) {
                PyErr_SetString(PyExc_ValueError, "due_pending: a literal id without a factor");
                return -1;
            }
            if (n == *cap) {
                DueOcc *bigger = PyMem_Realloc(*buf, 2 * *cap * sizeof(DueOcc));
                if (bigger == NULL) {
                    PyErr_NoMemory();
                    return -1;
                }
                *buf = bigger;
                *cap *= 2;
            }
            (*buf)[n].s = i;
            (*buf)[n].e = i + e->len;
            (*buf)[n].f = PyLong_AsLong(PyList_GET_ITEM(fac, e->id));
            n++;
        }
    }
    return PyErr_Occurred() ? -1 : n;
}

/* Whether factor ``f``'s occurrences (sorted by start, ``occ[at[f]:at[f+1]]``) hold one
[s2, e2) with s2 >= lo2 and e2 <= hi2 (``rules_due.close`` for one key). */
static int
due_has(const DueOcc *occ, const Py_ssize_t *at, long f, Py_ssize_t lo2, Py_ssize_t hi2)
{
    Py_ssize_t a = at[f], b = at[f + 1];
    while (a < b) { /* first start >= lo2 */
        Py_ssize_t m = (a + b) / 2;
        if (occ[m].s < lo2)
            a = m + 1;
        else
            b = m;
    }
    for (; a < at[f + 1] && occ[a].s < hi2; a++)
        if (occ[a].e <= hi2)
            return 1;
    return 0;
}

/* One pending rule: 1 due, 0 not, -1 error. ``ids``/``ends``/``idobj``: the hits decoded. */
static int
due_rule(PyObject *p, PyObject *sets, PyObject *facs, Py_ssize_t nhits, const long *ids, const Py_ssize_t *ends,
         PyObject **idobj, PyObject *kl, const uint32_t *codes, Py_ssize_t size, int near_ok, DueOcc **buf, Py_ssize_t *cap,
         Py_ssize_t **at, Py_ssize_t *atcap)
{
    PyObject *width = PyTuple_GET_ITEM(p, 1), *mine = PyTuple_GET_ITEM(p, 3), *recs = PyTuple_GET_ITEM(p, 4);
    int strict = PyObject_IsTrue(PyTuple_GET_ITEM(p, 2));
    long d = PyLong_AsLong(PyTuple_GET_ITEM(p, 5));
    if (strict < 0 || PyErr_Occurred())
        return -1;
    Py_ssize_t lo = 0, hi = size;
    if (width != Py_None && (strict || near_ok)) {
        /* Another factor of a match holding the key [s, e) lies in [e - w, s + w). */
        long w = PyLong_AsLong(width);
        Py_ssize_t e0 = size, s1 = 0;
        for (Py_ssize_t j = 0; j < nhits; j++) {
            int in = PySet_Contains(mine, idobj[j]);
            if (in < 0)
                return -1;
            if (!in)
                continue;
            long len = PyLong_AsLong(PyList_GET_ITEM(kl, ids[j]));
            if (ends[j] < e0)
                e0 = ends[j];
            if (ends[j] - len > s1)
                s1 = ends[j] - len;
        }
        if (PyErr_Occurred())
            return -1;
        lo = e0 - w > 0 ? e0 - w : 0;
        hi = s1 + w < size ? s1 + w : size;
        if (lo >= hi)
            return 0;
    }
    Py_ssize_t nocc = due_collect((CodeSet *)PyList_GET_ITEM(sets, d), PyList_GET_ITEM(facs, d), codes, lo, hi, buf, cap);
    if (nocc <= 0)
        return (int)nocc; /* none of the rule's other factors occurs: the common answer */
    long nfac = 0;
    for (Py_ssize_t k = 0; k < nocc; k++)
        if ((*buf)[k].f + 1 > nfac)
            nfac = (*buf)[k].f + 1;
    if (nfac + 1 > *atcap) {
        Py_ssize_t *bigger = PyMem_Realloc(*at, (nfac + 1) * sizeof(Py_ssize_t));
        if (bigger == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        *at = bigger;
        *atcap = nfac + 1;
    }
    qsort(*buf, nocc, sizeof(DueOcc), dueocc_cmp);
    Py_ssize_t *a = *at;
    for (long f = 0, k = 0; f <= nfac; f++) { /* a[f]: first occurrence of factor f */
        while (k < nocc && (*buf)[k].f < f)
            k++;
        a[f] = k;
    }
    const DueOcc *occ = *buf;
    Py_ssize_t nrecs = PyTuple_GET_SIZE(recs);
    for (Py_ssize_t r = 0; r < nrecs; r++) {
        /* (key group, width or None, strict, key literal ids, other factors' indices) */
        PyObject *rec = PyTuple_GET_ITEM(recs, r);
        PyObject *cw = PyTuple_GET_ITEM(rec, 1), *keyset = PyTuple_GET_ITEM(rec, 3), *idxs = PyTuple_GET_ITEM(rec, 4);
        Py_ssize_t nidx = PyTuple_GET_SIZE(idxs);
        int all = 1;
        for (Py_ssize_t q = 0; q < nidx && all; q++) {
            long f = PyLong_AsLong(PyTuple_GET_ITEM(idxs, q));
            all = f >= 0 && f < nfac && a[f] < a[f + 1];
        }
        if (PyErr_Occurred())
            return -1;
        if (!all)
            continue;
        int s1 = PyObject_IsTrue(PyTuple_GET_ITEM(rec, 2));
        if (s1 < 0)
            return -1;
        if (cw == Py_None || !(s1 || near_ok))
            return 1;
        long w = PyLong_AsLong(cw);
        for (Py_ssize_t j = 0; j < nhits; j++) {
            int in = PySet_Contains(keyset, idobj[j]);
            if (in < 0)
                return -1;
            if (!in)
                continue;
            Py_ssize_t e = ends[j], s = e - PyLong_AsLong(PyList_GET_ITEM(kl, ids[j]));
            int ok = 1;
            for (Py_ssize_t q = 0; q < nidx && ok; q++)
                ok = due_has(occ, a, PyLong_AsLong(PyTuple_GET_ITEM(idxs, q)), e - w, s + w);
            if (PyErr_Occurred())
                return -1;
            if (ok)
                return 1;
        }
    }
    return 0;
}

static PyObject *
textnative_due_pending(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 7) {
        PyErr_SetString(PyExc_TypeError, "due_pending(pending, sets, facs, hits, kl, codes, near_ok)");
        return NULL;
    }
    PyObject *pending = args[0], *sets = args[1], *facs = args[2], *hits = args[3], *kl = args[4];
    int near_ok = PyObject_IsTrue(args[6]);
    if (near_ok < 0)
        return NULL;
    if (!PyTuple_Check(pending) || !PyList_Check(sets) || !PyList_Check(facs) || !PyList_Check(hits) || !PyList_Check(kl)) {
        PyErr_SetString(PyExc_TypeError, "due_pending: pending a tuple; sets, facs, hits, kl lists");
        return NULL;
    }
    Py_buffer v;
    if (PyObject_GetBuffer(args[5], &v, PyBUF_C_CONTIGUOUS) < 0)
        return NULL;
    const uint32_t *codes = (const uint32_t *)v.buf;
    Py_ssize_t size = v.len / 4, nhits = PyList_GET_SIZE(hits), cap = 64, atcap = 0;
    long *ids = PyMem_Malloc((nhits ? nhits : 1) * sizeof(long));
    Py_ssize_t *ends = PyMem_Malloc((nhits ? nhits : 1) * sizeof(Py_ssize_t));
    PyObject **idobj = PyMem_Calloc(nhits ? nhits : 1, sizeof(PyObject *));
    DueOcc *buf = PyMem_Malloc(cap * sizeof(DueOcc));
    Py_ssize_t *at = NULL;
    PyObject *due = PyList_New(0), *rest = PyList_New(0), *out = NULL;
    if (ids == NULL || ends == NULL || idobj == NULL || buf == NULL || due == NULL || rest == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    if (v.len % 4) {
        PyErr_SetString(PyExc_ValueError, "due_pending: expected uint32 codes");
        goto done;
    }
    for (Py_ssize_t j = 0; j < nhits; j++) {
        long h = PyLong_AsLong(PyList_GET_ITEM(hits, j));
        ids[j] = h & DUE_HIT_MASK;
        ends[j] = h >> DUE_HIT_BITS;
        if (PyErr_Occurred() || (idobj[j] = PyLong_FromLong(ids[j])) == NULL)
            goto done;
        if (ids[j] >= PyList_GET_SIZE(kl)) {
            PyErr_SetString(PyExc_ValueError, "due_pending: a hit's literal id beyond kl");
            goto done;
        }
    }
    for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(pending); k++) {
        PyObject *p = PyTuple_GET_ITEM(pending, k);
        if (!PyTuple_Check(p) || PyTuple_GET_SIZE(p) != 6) {
            PyErr_SetString(PyExc_TypeError, "due_pending: a pending entry is a 6-tuple");
            goto done;
        }
        long d = PyLong_AsLong(PyTuple_GET_ITEM(p, 5));
        if (PyErr_Occurred())
            goto done;
        if (d < 0 || d >= PyList_GET_SIZE(sets) || d >= PyList_GET_SIZE(facs) || !size ||
            Py_TYPE(PyList_GET_ITEM(sets, d)) != &CodeSetType || ((CodeSet *)PyList_GET_ITEM(sets, d))->slots == NULL ||
            !PyList_Check(PyList_GET_ITEM(facs, d))) {
            if (PyList_Append(rest, p) < 0) /* not ours: the Python loop takes it */
                goto done;
            continue;
        }
        int got = due_rule(p, sets, facs, nhits, ids, ends, idobj, kl, codes, size, near_ok, &buf, &cap, &at, &atcap);
        if (got < 0 || (got && PyList_Append(due, PyTuple_GET_ITEM(p, 0)) < 0))
            goto done;
    }
    out = PyTuple_Pack(2, due, rest);
done:
    if (idobj != NULL)
        for (Py_ssize_t j = 0; j < nhits; j++)
            Py_XDECREF(idobj[j]);
    PyMem_Free(ids);
    PyMem_Free(ends);
    PyMem_Free(idobj);
    PyMem_Free(buf);
    PyMem_Free(at);
    Py_XDECREF(due);
    Py_XDECREF(rest);
    PyBuffer_Release(&v);
    return out;
}
