/* fenghuo.checks._clfnative: the classifier's per-message scoring in one C call.
 *
 * Why C: on a chat message numpy's cost is its calls (~0.3-1 µs each), not arithmetic. Hashing a
 * 50-character message's ~150 n-grams and summing their rows is ~0.3 µs of work; the numpy fast
 * path took ~8 calls for it, a ~1 KB message the reference path's ~16 and a 3,000-row temporary.
 * ClassifierCheck.find_in, thread CPU per COLD dev cut, medians of 8 pairs of fresh processes
 * (old code, new) on a 2-core Xeon at load 10-11: 50 characters 16.4 -> 2.9 µs (0.18x), ~1 KB
 * 88 -> 20.5 µs (0.24x; the kernel ~15 µs of it: ~2,900 random rows of a 16.8 MB table).
 *
 * One call hashes the 1..max_n-grams of the normalised codes as features.py defines them (keys
 * mod 2^64: c[i]; c[i] + c[i+1]*2^32; (c[i+1] + c[i+2]*2^32)*P + c[i]; bucket = (key*MIX mod
 * 2^64) >> (64 - bits): the little-endian meaning of its uint64 view), gathers the buckets' rows
 * of the model's float32 table (64-byte aligned rows of kp floats), and writes float64
 * bias[k] + sum[k] / sqrt(number of n-grams). Rows are summed in float32 in blocks of at most 63,
 * each block added in float64: within 1e-7 of an exact sum (numpy's float32 sums: 1e-4).
 * A model with a word table (classifier/words.py, issue 12 session 9) adds the words of the text's
 * forward-maximum-matching segmentation: from the left, the longest table word of 4, 3 or 2 codes
 * at the current position (one hash probe each), else one code; each distinct word's weights
 * (only the categories that have word weights: the shipped model's offensive column, 4 bytes a
 * word instead of a 64-byte row) are summed, and the sum over sqrt(number of distinct words) is
 * added to those logits (words.WordTable.segment_words and Model.logits_reference define it).
 * Only the CPython buffer protocol is used (no numpy headers). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#define MIX 0x9E3779B97F4A7C15ULL
#define PRIME 1000003ULL
#define MAX_KP 256    /* row width; wider tables are refused and scored by numpy */
#define CHUNK 21      /* positions per block: at most 63 n-grams summed in float32 */
#define BIG 8192      /* codes from which the GIL is released while summing */
#define WPRIME 1000003ULL            /* words.py's _P */
#define WMIX 0xD6E8FEB86659FD93ULL  /* words.py's _MIX: word slots are not n-gram buckets */
#define WORDS_ON_STACK 65536         /* tables up to this many words mark seen words on the stack */
#define WBLOCK 32                    /* positions of the FMM walk whose slots are prefetched together */

#if defined(__GNUC__) || defined(__clang__)
#define PREFETCH(p) __builtin_prefetch(p)
#else
#define PREFETCH(p) ((void)0)
#endif

typedef struct {
    PyObject_HEAD
    Py_buffer table; /* float32 [rows, kp], C-contiguous, rows >= 2**bits */
    Py_buffer bias;  /* float64 [k] */
    Py_buffer entries; /* uint64 [2**wbits]: a word table's slots (tag << 32 | id + 1), or none */
    Py_buffer wtable;  /* float32 [words, wk]: each word's weights for the categories wcols */
    Py_ssize_t k, kp, nwords, wk;
    int wcols[MAX_KP]; /* the category of each column of wtable */
    int bits, max_n, held, words, wsh;
} Scorer;

/* The bucket ids of the n-grams starting at positions lo..hi-1 of c[0..n-1], in window order
 * (each position's 1-, 2- and 3-gram); the row of each is prefetched as soon as it is known, so
 * the ~60 rows of a block are fetched from memory in parallel before they are summed. Inlined,
 * so kp = 16 is a constant (a shift, not a multiply, per address: 13.7 -> 11.0 µs per 1 KB). */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((always_inline)) inline
#endif
static int hash_block(const uint32_t *c, Py_ssize_t n, Py_ssize_t lo, Py_ssize_t hi, int max_n, int sh,
                      const float *t, Py_ssize_t kp, uint32_t *idx)
{
    int m = 0;
    Py_ssize_t i = lo;
    if (max_n == 3) { /* positions with all three n-grams, without a test per n-gram */
        Py_ssize_t end = hi < n - 2 ? hi : n - 2;
        for (; i < end; i++) {
            uint64_t c0 = c[i], c1 = c[i + 1], c2 = c[i + 2];
            uint32_t b0 = (uint32_t)((c0 * MIX) >> sh);
            uint32_t b1 = (uint32_t)(((c0 | (c1 << 32)) * MIX) >> sh);
            uint32_t b2 = (uint32_t)((((c1 | (c2 << 32)) * PRIME + c0) * MIX) >> sh);
            PREFETCH(t + (size_t)b0 * kp);
            PREFETCH(t + (size_t)b1 * kp);
            PREFETCH(t + (size_t)b2 * kp);
            idx[m] = b0, idx[m + 1] = b1, idx[m + 2] = b2;
            m += 3;
        }
    }
    for (; i < hi; i++) {
        uint64_t c0 = c[i];
        uint32_t b = (uint32_t)((c0 * MIX) >> sh);
        PREFETCH(t + (size_t)b * kp);
        idx[m++] = b;
        if (max_n >= 2 && i + 1 < n) {
            uint64_t c1 = c[i + 1];
            b = (uint32_t)(((c0 | (c1 << 32)) * MIX) >> sh);
            PREFETCH(t + (size_t)b * kp);
            idx[m++] = b;
            if (max_n >= 3 && i + 2 < n) {
                uint64_t key = (c1 | ((uint64_t)c[i + 2] << 32)) * PRIME + c0;
                b = (uint32_t)((key * MIX) >> sh);
                PREFETCH(t + (size_t)b * kp);
                idx[m++] = b;
            }
        }
    }
    return m;
}

#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
#define HAVE_X86 1
typedef float v8f __attribute__((vector_size(32)));
typedef float v16f __attribute__((vector_size(64)));

/* The 16-float rows (the shipped model's 13 categories, padded) with AVX-512: a row is one
 * register; the rows rotate over four accumulators so an add need not wait for the previous
 * row's (~4 cycles). Summing a 1 KB message's ~2,900 rows from L2 measured 5.8 µs, 7.8 µs with
 * AVX2 and 10.1 µs with SSE (a loaded 2-core Xeon; the kernel's own harness). */
__attribute__((target("avx512f"))) static void sum16_avx512(const float *t, const uint32_t *idx, int m, double *acc)
{
    v16f a[4] = {{0}};
    int j = 0;
    for (; j + 4 <= m; j += 4) {
        for (int u = 0; u < 4; u++) {
            v16f x;
            memcpy(&x, t + (size_t)idx[j + u] * 16, 64);
            a[u] += x;
        }
    }
    for (; j < m; j++) {
        v16f x;
        memcpy(&x, t + (size_t)idx[j] * 16, 64);
        a[0] += x;
    }
    v16f s = (a[0] + a[1]) + (a[2] + a[3]);
    for (int q = 0; q < 16; q++)
        acc[q] += s[q];
}

/* The same with AVX2: a row is two registers, four pairs of accumulators. */
__attribute__((target("avx2"))) static void sum16_avx2(const float *t, const uint32_t *idx, int m, double *acc)
{
    v8f a[8] = {{0}};
    int j = 0;
    for (; j + 4 <= m; j += 4) {
        for (int u = 0; u < 4; u++) {
            const float *r = t + (size_t)idx[j + u] * 16;
            v8f x0, x1;
            memcpy(&x0, r, 32), memcpy(&x1, r + 8, 32);
            a[2 * u] += x0, a[2 * u + 1] += x1;
        }
    }
    for (; j < m; j++) {
        const float *r = t + (size_t)idx[j] * 16;
        v8f x0, x1;
        memcpy(&x0, r, 32), memcpy(&x1, r + 8, 32);
        a[0] += x0, a[1] += x1;
    }
    v8f lo = (a[0] + a[2]) + (a[4] + a[6]), hi = (a[1] + a[3]) + (a[5] + a[7]);
    for (int q = 0; q < 8; q++)
        acc[q] += lo[q], acc[8 + q] += hi[q];
}
#else
#define HAVE_X86 0
#endif

/* 2: AVX-512, 1: AVX2, 0: plain C; chosen from the CPU at import, lowered by set_simd() so the
 * tests can run every path on one machine. */
static int simd_best, simd;

/* acc[0..kp) += the float32 sum of the m rows named by idx. */
static void sum_block(const float *t, Py_ssize_t kp, const uint32_t *idx, int m, double *acc)
{
#if HAVE_X86
    if (kp == 16 && simd) { /* the shipped model (13 categories): one cache line a row */
        if (simd == 2) {
            sum16_avx512(t, idx, m, acc);
            return;
        }
        sum16_avx2(t, idx, m, acc);
        return;
    }
#endif
    /* Other widths, CPUs without AVX2: plain loops (still one C call a message). */
    float a[MAX_KP];
    memset(a, 0, sizeof(float) * (size_t)kp);
    for (int j = 0; j < m; j++) {
        const float *r = t + (size_t)idx[j] * kp;
        for (Py_ssize_t q = 0; q < kp; q++)
            a[q] += r[q];
    }
    for (Py_ssize_t q = 0; q < kp; q++)
        acc[q] += a[q];
}

/* The id of the table word whose mixed key is ``mk``, or -1: its top bits pick the slot, whose
 * tag must equal its low 32 bits (words.WordTable._hits). */
static inline long long probe(const uint64_t *e, int wsh, Py_ssize_t nwords, uint64_t mk)
{
    uint64_t ent = e[mk >> wsh];
    uint32_t id1 = (uint32_t)ent;
    if ((ent >> 32) != (mk & 0xFFFFFFFFULL) || id1 == 0 || (Py_ssize_t)id1 > nwords)
        return -1;
    return (long long)id1 - 1;
}

/* One block of the forward-maximum-matching walk over c[0..n), from *pos: the slots of the 2-, 3-
 * and 4-grams starting at the next WBLOCK positions are hashed and prefetched first (the ~2 MB
 * slot table is mostly out of cache: the walk would otherwise wait for each probe in turn), then
 * the walk takes, at each position, the longest table word starting there, else one code. The
 * ids of the words found go to ids[] (at most WBLOCK / 2); *pos ends past the last token, which
 * may reach into the next block. Keys as words.gram_keys: c0*P + c1, then *P + c2, then *P + c3
 * (mod 2^64), mixed by WMIX. */
static int fmm_block(const uint64_t *e, int wsh, Py_ssize_t nwords, const uint32_t *c, Py_ssize_t n, Py_ssize_t *pos,
                     uint32_t *ids)
{
    uint64_t m2[WBLOCK], m3[WBLOCK], m4[WBLOCK];
    Py_ssize_t lo = *pos, hi = lo + WBLOCK < n ? lo + WBLOCK : n, i;
    for (i = lo; i < hi && i + 1 < n; i++) {
        uint64_t k2 = (uint64_t)c[i] * WPRIME + c[i + 1], k3 = k2 * WPRIME + (i + 2 < n ? c[i + 2] : 0);
        uint64_t k4 = k3 * WPRIME + (i + 3 < n ? c[i + 3] : 0);
        m2[i - lo] = k2 * WMIX, m3[i - lo] = k3 * WMIX, m4[i - lo] = k4 * WMIX;
        PREFETCH(e + (m2[i - lo] >> wsh));
        if (i + 2 < n)
            PREFETCH(e + (m3[i - lo] >> wsh));
        if (i + 3 < n)
            PREFETCH(e + (m4[i - lo] >> wsh));
    }
    int m = 0;
    for (i = lo; i < hi;) {
        Py_ssize_t j = i - lo;
        long long id = -1;
        int len = 1;
        if (i + 3 < n && (id = probe(e, wsh, nwords, m4[j])) >= 0)
            len = 4;
        else if (i + 2 < n && (id = probe(e, wsh, nwords, m3[j])) >= 0)
            len = 3;
        else if (i + 1 < n && (id = probe(e, wsh, nwords, m2[j])) >= 0)
            len = 2;
        if (len > 1)
            ids[m++] = (uint32_t)id;
        i += len;
    }
    *pos = i;
    return m;
}

/* acc[0..wk) += the word-table rows (wk float32 each, summed in float64) of the distinct words of
 * the FMM segmentation of c[0..n); returns their number. ``seen`` marks them: nwords bits, zeroed
 * here. */
static Py_ssize_t sum_words(const Scorer *s, const uint32_t *c, Py_ssize_t n, uint64_t *seen, double *acc)
{
    const uint64_t *e = (const uint64_t *)s->entries.buf;
    const float *wt = (const float *)s->wtable.buf;
    uint32_t ids[WBLOCK];
    Py_ssize_t pos = 0, distinct = 0, wk = s->wk;
    memset(seen, 0, sizeof(uint64_t) * (size_t)((s->nwords + 63) / 64));
    while (pos < n) {
        int m = fmm_block(e, s->wsh, s->nwords, c, n, &pos, ids), u = 0;
        for (int j = 0; j < m; j++) { /* the distinct ones, their rows prefetched */
            uint32_t id = ids[j];
            uint64_t bit = 1ULL << (id & 63);
            if (seen[id >> 6] & bit)
                continue;
            seen[id >> 6] |= bit;
            PREFETCH(wt + (size_t)id * wk);
            ids[u++] = id;
        }
        for (int j = 0; j < u; j++) {
            const float *r = wt + (size_t)ids[j] * wk;
            for (Py_ssize_t q = 0; q < wk; q++)
                acc[q] += r[q];
        }
        distinct += u;
    }
    return distinct;
}

/* The logits of n codes into out[0..k); -1 when the memory for a word table's marks is lacking. */
static int score(const Scorer *s, const uint32_t *c, Py_ssize_t n, double *out)
{
    const float *t = (const float *)s->table.buf;
    const double *bias = (const double *)s->bias.buf;
    double acc[MAX_KP];
    uint32_t idx[3 * CHUNK];
    Py_ssize_t count = n;
    if (s->max_n >= 2 && n >= 2)
        count += n - 1;
    if (s->max_n >= 3 && n >= 3)
        count += n - 2;
    memset(acc, 0, sizeof(double) * (size_t)s->kp);
    for (Py_ssize_t lo = 0; lo < n; lo += CHUNK) {
        Py_ssize_t hi = lo + CHUNK < n ? lo + CHUNK : n;
        int m = s->kp == 16 ? hash_block(c, n, lo, hi, s->max_n, 64 - s->bits, t, 16, idx)
                            : hash_block(c, n, lo, hi, s->max_n, 64 - s->bits, t, s->kp, idx);
        sum_block(t, s->kp, idx, m, acc);
    }
    double inv = count ? 1.0 / sqrt((double)count) : 0.0;
    for (Py_ssize_t q = 0; q < s->k; q++)
        out[q] = bias[q] + acc[q] * inv;
    if (s->words && n >= 2) {
        uint64_t stack_seen[WORDS_ON_STACK / 64];
        uint64_t *seen = s->nwords <= WORDS_ON_STACK ? stack_seen : malloc(sizeof(uint64_t) * (size_t)((s->nwords + 63) / 64));
        if (seen == NULL)
            return -1;
        memset(acc, 0, sizeof(double) * (size_t)s->wk);
        Py_ssize_t distinct = sum_words(s, c, n, seen, acc);
        if (seen != stack_seen)
            free(seen);
        if (distinct) {
            double winv = 1.0 / sqrt((double)distinct);
            for (Py_ssize_t q = 0; q < s->wk; q++)
                out[s->wcols[q]] += acc[q] * winv;
        }
    }
    return 0;
}

static int Scorer_init(Scorer *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"table", "bias", "bits", "max_n", "entries", "wtable", "wcols", NULL};
    PyObject *table, *bias, *entries = Py_None, *wtable = Py_None, *wcols = Py_None;
    int bits, max_n;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OOii|OOO", kwlist, &table, &bias, &bits, &max_n, &entries, &wtable, &wcols))
        return -1;
    if ((entries == Py_None) != (wtable == Py_None) || (entries == Py_None) != (wcols == Py_None)) {
        PyErr_SetString(PyExc_TypeError, "entries, wtable and wcols go together");
        return -1;
    }
    if (self->held) {
        PyErr_SetString(PyExc_TypeError, "Scorer is already initialised");
        return -1;
    }
    if (bits < 1 || bits > 32 || max_n < 1 || max_n > 3) {
        PyErr_Format(PyExc_ValueError, "bits must be 1..32 and max_n 1..3, got %d and %d", bits, max_n);
        return -1;
    }
    if (PyObject_GetBuffer(table, &self->table, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0)
        return -1;
    if (PyObject_GetBuffer(bias, &self->bias, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) {
        PyBuffer_Release(&self->table);
        return -1;
    }
    self->held = 1;
    const char *tf = self->table.format, *bf = self->bias.format;
    if (self->table.ndim != 2 || self->table.itemsize != 4 || strcmp(tf + (*tf == '<' || *tf == '='), "f") != 0 ||
        self->bias.ndim != 1 || self->bias.itemsize != 8 || strcmp(bf + (*bf == '<' || *bf == '='), "d") != 0) {
        PyErr_SetString(PyExc_TypeError, "table must be a 2-D float32 array and bias a 1-D float64 array");
        return -1;
    }
    self->kp = self->table.shape[1];
    self->k = self->bias.shape[0];
    if (self->k < 1 || self->k > self->kp || self->kp > MAX_KP || self->table.shape[0] < ((Py_ssize_t)1 << bits)) {
        PyErr_Format(PyExc_ValueError, "table of %zd x %zd cannot hold 2**%d rows of %zd categories", self->table.shape[0],
                     self->kp, bits, self->k);
        return -1;
    }
    self->bits = bits, self->max_n = max_n;
    if (entries == Py_None)
        return 0;
    if (PyObject_GetBuffer(entries, &self->entries, PyBUF_C_CONTIGUOUS) < 0)
        return -1;
    if (PyObject_GetBuffer(wtable, &self->wtable, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) {
        PyBuffer_Release(&self->entries);
        return -1;
    }
    self->words = 1; /* held: released by dealloc from here on */
    const char *wf = self->wtable.format;
    Py_ssize_t slots = self->entries.len / 8;
    int wbits = 0;
    while (wbits < 40 && ((Py_ssize_t)1 << wbits) < slots)
        wbits++;
    if (self->entries.itemsize != 8 || slots < 2 || ((Py_ssize_t)1 << wbits) != slots || self->wtable.ndim != 2 ||
        self->wtable.itemsize != 4 || strcmp(wf + (*wf == '<' || *wf == '='), "f") != 0 || self->wtable.shape[1] < 1 ||
        self->wtable.shape[1] > self->k) {
        PyErr_SetString(PyExc_ValueError, "entries must be 2**bits uint64 slots and wtable a float32 [words, 1..k] array");
        return -1;
    }
    self->wsh = 64 - wbits;
    self->nwords = self->wtable.shape[0];
    self->wk = self->wtable.shape[1];
    PyObject *cols = PySequence_Fast(wcols, "wcols must be a sequence of category indices");
    if (cols == NULL)
        return -1;
    int ok = PySequence_Fast_GET_SIZE(cols) == self->wk;
    for (Py_ssize_t q = 0; ok && q < self->wk; q++) {
        long v = PyLong_AsLong(PySequence_Fast_GET_ITEM(cols, q));
        ok = v >= 0 && v < self->k;
        self->wcols[q] = (int)v;
    }
    Py_DECREF(cols);
    if (!ok) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_ValueError, "wcols must name one category (0..k-1) per column of wtable");
        return -1;
    }
    return 0;
}

static void Scorer_dealloc(Scorer *self)
{
    if (self->held) {
        PyBuffer_Release(&self->table);
        PyBuffer_Release(&self->bias);
    }
    if (self->words) {
        PyBuffer_Release(&self->entries);
        PyBuffer_Release(&self->wtable);
    }
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* scorer.score(codes, cut=None) -> (logits, hits)
 * codes: a contiguous buffer of uint32 (itemsize 4); logits: a bytearray of k float64;
 * hits: the tuple of categories q with logits[q] >= cut[q] (cut: k float64), () without cut. */
static PyObject *Scorer_score(Scorer *self, PyObject *const *args, Py_ssize_t nargs)
{
    /* METH_FASTCALL: no argument tuple is built per message */
    if (nargs < 1 || nargs > 2 || !self->held) {
        PyErr_SetString(PyExc_TypeError, "score(codes, cut=None) takes 1 or 2 arguments (of an initialised Scorer)");
        return NULL;
    }
    PyObject *cut = nargs > 1 ? args[1] : Py_None, *z = NULL, *hits = NULL, *res = NULL;
    Py_buffer cb, kb = {0};
    if (PyObject_GetBuffer(args[0], &cb, PyBUF_C_CONTIGUOUS) < 0)
        return NULL;
    if (cb.itemsize != 4 || cb.len % 4) {
        PyErr_SetString(PyExc_TypeError, "codes must be uint32");
        goto done;
    }
    if (cut != Py_None && PyObject_GetBuffer(cut, &kb, PyBUF_C_CONTIGUOUS) < 0)
        goto done;
    if (cut != Py_None && kb.len < (Py_ssize_t)(8 * self->k)) {
        PyErr_SetString(PyExc_ValueError, "cut must hold one float64 per category");
        goto done;
    }
    if ((z = PyByteArray_FromStringAndSize(NULL, 8 * self->k)) == NULL)
        goto done;
    double *out = (double *)PyByteArray_AS_STRING(z);
    Py_ssize_t n = cb.len / 4, nh = 0;
    int rc;
    if (n >= BIG) {
        Py_BEGIN_ALLOW_THREADS rc = score(self, (const uint32_t *)cb.buf, n, out);
        Py_END_ALLOW_THREADS
    } else {
        rc = score(self, (const uint32_t *)cb.buf, n, out);
    }
    if (rc < 0) {
        PyErr_NoMemory();
        goto done;
    }
    const double *cutv = (const double *)kb.buf;
    for (Py_ssize_t q = 0; cutv && q < self->k; q++)
        nh += out[q] >= cutv[q];
    if ((hits = PyTuple_New(nh)) == NULL)
        goto done;
    for (Py_ssize_t q = 0, j = 0; cutv && q < self->k; q++)
        if (out[q] >= cutv[q])
            PyTuple_SET_ITEM(hits, j++, PyLong_FromSsize_t(q)); /* small ints: cached, cannot fail */
    res = PyTuple_Pack(2, z, hits);
done:
    Py_XDECREF(z), Py_XDECREF(hits);
    if (kb.obj)
        PyBuffer_Release(&kb);
    PyBuffer_Release(&cb);
    return res;
}

static PyMethodDef Scorer_methods[] = {
    {"score", (PyCFunction)(void (*)(void))Scorer_score, METH_FASTCALL,
     "score(codes, cut=None) -> (bytearray of k float64 logits, tuple of the categories q with logits[q] >= cut[q])"},
    {NULL},
};

static PyTypeObject ScorerType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "fenghuo.checks._clfnative.Scorer",
    .tp_doc = PyDoc_STR("Scorer(table, bias, bits, max_n, entries=None, wtable=None, wcols=None): holds the model's float32 "
                        "table [rows >= 2**bits, kp], float64 bias [k] and optionally a word table (uint64 slots, float32 "
                        "[words, wk] weights for the categories wcols); scorer.score(codes, cut=None) -> (bytearray of k float64 logits, tuple of hits)."),
    .tp_basicsize = sizeof(Scorer),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Scorer_init,
    .tp_dealloc = (destructor)Scorer_dealloc,
    .tp_methods = Scorer_methods,
};

/* The count of Han characters and of other letters among n codes: check.py's han_share (its
 * _HAN_RANGES and _LETTER_RANGES on decode_quad of the codes). Branch-free, so GCC vectorises it. */
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("O3")))
#endif
static void count_scripts(const uint32_t *c, Py_ssize_t n, Py_ssize_t *han, Py_ssize_t *other)
{
    uint32_t h = 0, o = 0; /* per call at most 2^32 codes: the caller splits longer texts */
    for (Py_ssize_t i = 0; i < n; i++) {
        uint32_t q = c[i], cp = (((q >> 8) & 0x7F) << 14) | (((q >> 16) & 0x7F) << 7) | ((q >> 24) & 0x7F);
        h += (uint32_t)(cp - 0x3400 <= 0x9FFF - 0x3400) | (uint32_t)(cp - 0xF900 <= 0xFAFF - 0xF900);
        o += (uint32_t)(cp - 0x61 <= 0x7A - 0x61) | (uint32_t)(cp - 0xC0 <= 0x2FF - 0xC0) | (uint32_t)(cp - 0x370 <= 0x52F - 0x370);
    }
    *han += h, *other += o;
}

/* script_counts(codes) -> (Han, other letters), for a text the model flags: numpy's gather and
 * two byte counts (han_share_of) measured 14.5 µs on a 1 KB message on the loaded machine. */
static PyObject *script_counts(PyObject *mod, PyObject *codes)
{
    (void)mod;
    Py_buffer cb;
    if (PyObject_GetBuffer(codes, &cb, PyBUF_C_CONTIGUOUS) < 0)
        return NULL;
    if (cb.itemsize != 4 || cb.len % 4) {
        PyBuffer_Release(&cb);
        PyErr_SetString(PyExc_TypeError, "codes must be uint32");
        return NULL;
    }
    Py_ssize_t han = 0, other = 0, n = cb.len / 4;
    for (Py_ssize_t lo = 0; lo < n; lo += (Py_ssize_t)1 << 30)
        count_scripts((const uint32_t *)cb.buf + lo, n - lo < ((Py_ssize_t)1 << 30) ? n - lo : (Py_ssize_t)1 << 30, &han, &other);
    PyBuffer_Release(&cb);
    return Py_BuildValue("nn", han, other);
}

/* fmm_words(entries, codes) -> bytes of uint32: the ids of the table words of the FMM segmentation
 * of codes, in order, repeats kept (words.WordTable.segment_words; for the tests). */
static PyObject *fmm_words(PyObject *mod, PyObject *const *args, Py_ssize_t nargs)
{
    (void)mod;
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "fmm_words(entries, codes) takes 2 arguments");
        return NULL;
    }
    Py_buffer eb, cb;
    PyObject *res = NULL;
    if (PyObject_GetBuffer(args[0], &eb, PyBUF_C_CONTIGUOUS) < 0)
        return NULL;
    if (PyObject_GetBuffer(args[1], &cb, PyBUF_C_CONTIGUOUS) < 0) {
        PyBuffer_Release(&eb);
        return NULL;
    }
    Py_ssize_t slots = eb.len / 8, n = cb.len / 4, pos = 0, m = 0;
    int wbits = 0;
    while (wbits < 40 && ((Py_ssize_t)1 << wbits) < slots)
        wbits++;
    if (eb.itemsize != 8 || slots < 2 || ((Py_ssize_t)1 << wbits) != slots || cb.itemsize != 4 || cb.len % 4) {
        PyErr_SetString(PyExc_TypeError, "entries must be 2**bits uint64 slots and codes uint32");
        goto done;
    }
    if ((res = PyBytes_FromStringAndSize(NULL, 4 * (n / 2 + 1))) == NULL)
        goto done;
    uint32_t *out = (uint32_t *)PyBytes_AS_STRING(res);
    while (pos < n)
        m += fmm_block((const uint64_t *)eb.buf, 64 - wbits, (Py_ssize_t)0xFFFFFFFF, (const uint32_t *)cb.buf, n, &pos, out + m);
    _PyBytes_Resize(&res, 4 * m);
done:
    PyBuffer_Release(&eb);
    PyBuffer_Release(&cb);
    return res;
}

static PyObject *set_simd(PyObject *mod, PyObject *arg)
{
    (void)mod;
    long level = PyLong_AsLong(arg);
    if (level == -1 && PyErr_Occurred())
        return NULL;
    simd = level < 0 ? 0 : level > simd_best ? simd_best : (int)level;
    return PyLong_FromLong(simd);
}

/* probabilities(logits) -> list of round(1.0 / (1.0 + exp(-max(min(v, 700.0), -700.0))), 4) per
 * logit, the numbers ClassifierCheck.scores_in gives, bit for bit, in one call (in Python the
 * min, max, exp, division and round cost ~0.6-0.8 µs a category, ~8 µs for the shipped model's 13).
 * min and max as Python's builtins evaluate them (a NaN passes through); exp is libm's, as
 * math.exp's; round(p, 4) is the double nearest the integer nearest p * 10^4 (ties to even) over
 * 10^4 (float.__round__: dtoa to 4 decimals, strtod back), which is r / 10000.0 (r exact, the
 * division correctly rounded) for r taken from the product in double; where that product lies
 * within 1e-9 of a half (its rounding error is < 1e-11) float.__round__ itself decides. */
static PyObject *probabilities(PyObject *mod, PyObject *arg)
{
    (void)mod;
    PyObject *seq = PySequence_Fast(arg, "probabilities(logits): expected a sequence of floats");
    if (seq == NULL)
        return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq);
    PyObject *out = PyList_New(n);
    if (out == NULL)
        goto fail;
    for (Py_ssize_t i = 0; i < n; i++) {
        double v = PyFloat_AsDouble(items[i]);
        if (v == -1.0 && PyErr_Occurred())
            goto fail;
        if (700.0 < v) /* min(v, 700.0) */
            v = 700.0;
        if (-700.0 > v) /* max(..., -700.0) */
            v = -700.0;
        double p = 1.0 / (1.0 + exp(-v));
        PyObject *o;
        double y = p * 10000.0, fl = floor(y), f = y - fl;
        if (!isfinite(p)) {
            o = PyFloat_FromDouble(p);
        } else if (fabs(f - 0.5) <= 1e-9) {
            PyObject *pf = PyFloat_FromDouble(p);
            if (pf == NULL)
                goto fail;
            o = PyObject_CallMethod(pf, "__round__", "i", 4);
            Py_DECREF(pf);
        } else {
            o = PyFloat_FromDouble((f > 0.5 ? fl + 1.0 : fl) / 10000.0);
        }
        if (o == NULL)
            goto fail;
        PyList_SET_ITEM(out, i, o);
    }
    Py_DECREF(seq);
    return out;
fail:
    Py_XDECREF(out);
    Py_DECREF(seq);
    return NULL;
}

static PyMethodDef module_methods[] = {
    {"fmm_words", (PyCFunction)(void (*)(void))fmm_words, METH_FASTCALL,
     "fmm_words(entries, codes) -> bytes of uint32: the word ids of the forward-maximum-matching segmentation of codes"},
    {"script_counts", script_counts, METH_O, "script_counts(codes) -> (Han characters, other letters) of normalised codes"},
    {"probabilities", probabilities, METH_O,
     "probabilities(logits) -> [round(1 / (1 + exp(-max(min(v, 700), -700))), 4) for v in logits], bit for bit"},
    {"set_simd", set_simd, METH_O,
     "set_simd(level) -> the level now used: the highest of 0 (portable), 1 (AVX2), 2 (AVX-512) this CPU has, "
     "at most ``level`` (for tests: every path gives the same sums up to float rounding)"},
    {NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_clfnative",
    "The classifier's hashed n-gram scoring in one C call (see _clfnative.c for why).", -1, module_methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__clfnative(void)
{
    if (PyType_Ready(&ScorerType) < 0)
        return NULL;
#if HAVE_X86
    __builtin_cpu_init();
    simd_best = __builtin_cpu_supports("avx512f") ? 2 : __builtin_cpu_supports("avx2") ? 1 : 0;
#endif
    simd = simd_best;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    Py_INCREF(&ScorerType);
    if (PyModule_AddObject(m, "Scorer", (PyObject *)&ScorerType) < 0) {
        Py_DECREF(&ScorerType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
