/* The JSON values an event is made of, read from a cursor over the body (issue 19), for the
   batch decoder (_ingestdecode.h), included by _ingestnative.c before it.

Every reader answers a new reference, or NULL with no error set when it does not read the
value exactly as msgspec would (an escape, another number or time form, a length over the
limit); the decoder then leaves the whole body to msgspec, which decides and names errors.
Strings without escapes only; non-ASCII ones are decoded (and validated) as UTF-8 and their
length counted in code points, as msgspec's max_length counts.
*/

typedef struct {
    const char *p, *end;
} Cur;

static inline int same_bytes(const char *a, const char *b, Py_ssize_t n);

static inline void
skip_ws(Cur *c)
{
    if (c->p < c->end && *c->p == ' ')
        c->p++;  /* the usual: none, or the one space json.dumps writes after ':' and ',' */
    if (c->p < c->end && (unsigned char)*c->p > ' ')
        return;
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\n' || *c->p == '\r' || *c->p == '\t'))
        c->p++;
}

/* Eight bytes at a time: whether any is '"', '\\', a control character (< 0x20) or >= 0x80,
   the bytes the per-byte loop must look at (the usual id, service or time has none until its
   closing quote). The classic "has a zero byte" test on x ^ '"'*8, x ^ '\\'*8 and x & 0xe0*8. */
#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL
static inline int
word_special(uint64_t x)
{
    uint64_t q = x ^ (ONES * '"'), b = x ^ (ONES * '\\'), ctl = x & (ONES * 0xe0);
    return (((q - ONES) & ~q) | ((b - ONES) & ~b) | ((ctl - ONES) & ~ctl) | x) & HIGHS ? 1 : 0;
}

/* a string's raw bytes (the cursor on its opening quote); 1 if it has bytes >= 0x80. -1: an
   escape, a control character or no closing quote (not read here) */
static inline int
str_bytes(Cur *c, const char **s, Py_ssize_t *n)
{
    if (c->p >= c->end || *c->p != '"')
        return -1;
    const char *q = ++c->p;
    int high = 0;
    for (;;) {
        while (q + 8 <= c->end) {
            uint64_t x;
            memcpy(&x, q, 8);
            if (word_special(x))
                break;
            q += 8;
        }
        if (q >= c->end)
            return -1;
        unsigned char ch = (unsigned char)*q;
        if (ch == '"')
            break;
        if (ch == '\\' || ch < 0x20)
            return -1;
        high |= ch >= 0x80;
        q++;
    }
    *s = c->p;
    *n = q - c->p;
    c->p = q + 1;
    return high;
}

/* a str of at most ``maxlen`` code points (-1: any), at least ``minlen``; NULL (no error set) if not read here */
static PyObject *
str_value(Cur *c, Py_ssize_t minlen, Py_ssize_t maxlen)
{
    const char *s;
    Py_ssize_t n;
    int high = str_bytes(c, &s, &n);
    if (high < 0)
        return NULL;
    PyObject *u;
    if (!high) {
        if (n < minlen || (maxlen >= 0 && n > maxlen))
            return NULL;
        u = PyUnicode_New(n, 127);
        if (u == NULL) {
            PyErr_Clear();
            return NULL;
        }
        memcpy(PyUnicode_DATA(u), s, n);
        return u;
    }
    u = PyUnicode_DecodeUTF8(s, n, "strict");  /* invalid UTF-8: msgspec names it */
    if (u == NULL) {
        PyErr_Clear();
        return NULL;
    }
    Py_ssize_t len = PyUnicode_GET_LENGTH(u);
    if (len < minlen || (maxlen >= 0 && len > maxlen)) {
        Py_DECREF(u);
        return NULL;
    }
    return u;
}

/* the same str as the previous event's value of this field, if its bytes are the same */
typedef struct {
    const char *s;
    Py_ssize_t n;
    PyObject *obj;  /* borrowed from the events made */
} Last;

static PyObject *
str_shared(Cur *c, Last *last, Py_ssize_t minlen, Py_ssize_t maxlen)
{
    const char *start = c->p;
    if (last->obj != NULL && c->p + last->n + 2 <= c->end && *c->p == '"' && c->p[last->n + 1] == '"'
        && same_bytes(c->p + 1, last->s, last->n)) {
        c->p += last->n + 2;
        return Py_NewRef(last->obj);
    }
    PyObject *u = str_value(c, minlen, maxlen);
    if (u != NULL) {
        last->s = start + 1;
        last->n = c->p - start - 2;
        last->obj = u;
    }
    return u;
}

static inline int
delimiter(Cur *c)
{
    return c->p >= c->end || *c->p == ',' || *c->p == '}' || *c->p == ']' || *c->p == ' ' || *c->p == '\n'
           || *c->p == '\r' || *c->p == '\t';
}

/* null → 0, true → 1, false → 2, else -1 */
static int
literal(Cur *c)
{
    Py_ssize_t left = c->end - c->p;
    int r = -1;
    if (left >= 4 && memcmp(c->p, "null", 4) == 0)
        r = 0, c->p += 4;
    else if (left >= 4 && memcmp(c->p, "true", 4) == 0)
        r = 1, c->p += 4;
    else if (left >= 5 && memcmp(c->p, "false", 5) == 0)
        r = 2, c->p += 5;
    return r >= 0 && delimiter(c) ? r : -1;
}

/* a bool (nullable: null → None) as a new reference; NULL if not read here */
static PyObject *
bool_value(Cur *c, int nullable)
{
    int r = literal(c);
    if (r == 1)
        Py_RETURN_TRUE;
    if (r == 2)
        Py_RETURN_FALSE;
    if (r == 0 && nullable)
        Py_RETURN_NONE;
    return NULL;
}

static inline int
digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* "YYYY-MM-DDTHH:MM:SS[.f{1,6}](Z|+00:00)" as an aware datetime in UTC; NULL for any other form */
static PyObject *
time_value(Cur *c, Last *last)
{
    if (last->obj != NULL && c->p + last->n + 2 <= c->end && *c->p == '"' && c->p[last->n + 1] == '"'
        && same_bytes(c->p + 1, last->s, last->n)) {
        c->p += last->n + 2;
        return Py_NewRef(last->obj);
    }
    const char *s;
    Py_ssize_t n;
    if (str_bytes(c, &s, &n) != 0 || n < 20 || n > 32)
        return NULL;
    if (s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':')
        return NULL;
    int y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2);
    int h = digits(s + 11, 2), mi = digits(s + 14, 2), sec = digits(s + 17, 2);
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59)
        return NULL;
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d > mdays[mo - 1] + (mo == 2 && leap))
        return NULL;
    Py_ssize_t i = 19;
    int us = 0;
    if (s[i] == '.') {
        int k = 0;
        i++;
        while (i < n && s[i] >= '0' && s[i] <= '9' && k < 7)
            us = us * 10 + (s[i++] - '0'), k++;
        if (k == 0 || k > 6)
            return NULL;
        for (; k < 6; k++)
            us *= 10;
    }
    if (!((n - i == 1 && s[i] == 'Z') || (n - i == 6 && memcmp(s + i, "+00:00", 6) == 0)))
        return NULL;
    PyObject *t = PyDateTimeAPI->DateTime_FromDateAndTime(y, mo, d, h, mi, sec, us, PyDateTime_TimeZone_UTC,
                                                         PyDateTimeAPI->DateTimeType);
    if (t == NULL) {
        PyErr_Clear();
        return NULL;
    }
    last->s = s;
    last->n = n;
    last->obj = t;
    return t;
}

/* an array of strings as a tuple (empty: the shared empty tuple) */
static PyObject *
str_tuple(Cur *c)
{
    if (c->p >= c->end || *c->p != '[')
        return NULL;
    c->p++;
    skip_ws(c);
    if (c->p < c->end && *c->p == ']') {
        c->p++;
        return PyTuple_New(0);
    }
    PyObject *items = PyList_New(0);
    if (items == NULL) {
        PyErr_Clear();
        return NULL;
    }
    for (;;) {
        skip_ws(c);
        PyObject *u = str_value(c, 0, -1);
        if (u == NULL || PyList_Append(items, u) < 0) {
            Py_XDECREF(u);
            Py_DECREF(items);
            PyErr_Clear();
            return NULL;
        }
        Py_DECREF(u);
        skip_ws(c);
        if (c->p < c->end && *c->p == ',') {
            c->p++;
            continue;
        }
        if (c->p < c->end && *c->p == ']') {
            c->p++;
            break;
        }
        Py_DECREF(items);
        return NULL;
    }
    PyObject *t = PyList_AsTuple(items);
    Py_DECREF(items);
    if (t == NULL)
        PyErr_Clear();
    else
        PyObject_GC_UnTrack(t);  /* strings only: nothing the cyclic collector must see (wire.py) */
    return t;
}

/* the key of an object member, matched against ``names`` (-1: unknown, an escape, not a key);
   ``hint``, the member the previous event had next, is tried first (events repeat their order) */
static inline int
same_bytes(const char *a, const char *b, Py_ssize_t n)
{
    /* words, the last one overlapping: no call into libc's memcmp for a key or a short value */
    uint64_t x, y;
    if (n >= 8) {
        for (Py_ssize_t i = 0; i + 8 <= n; i += 8) {
            memcpy(&x, a + i, 8);
            memcpy(&y, b + i, 8);
            if (x != y)
                return 0;
        }
        memcpy(&x, a + n - 8, 8);
        memcpy(&y, b + n - 8, 8);
        return x == y;
    }
    if (n >= 4) {  /* two overlapping 4-byte words */
        uint32_t u, v;
        memcpy(&u, a, 4);
        memcpy(&v, b, 4);
        if (u != v)
            return 0;
        memcpy(&u, a + n - 4, 4);
        memcpy(&v, b + n - 4, 4);
        return u == v;
    }
    for (Py_ssize_t i = 0; i < n; i++)
        if (a[i] != b[i])
            return 0;
    return 1;
}

static inline int
key_of(Cur *c, const char *const *names, const Py_ssize_t *lens, int count, int hint)
{
    int k = -1;
    /* the hinted name, then its closing quote: a name holds no quote or escape, so that is the key */
    if (hint >= 0 && hint < count && c->p + lens[hint] + 2 <= c->end && *c->p == '"'
        && c->p[lens[hint] + 1] == '"' && same_bytes(c->p + 1, names[hint], lens[hint])) {
        c->p += lens[hint] + 2;
        k = hint;
    } else {
        const char *s;
        Py_ssize_t n;
        if (str_bytes(c, &s, &n) != 0)
            return -1;
        for (int i = 0; i < count && k < 0; i++)
            if (lens[i] == n && same_bytes(names[i], s, n))
                k = i;
        if (k < 0)
            return -1;
    }
    skip_ws(c);
    if (c->p >= c->end || *c->p != ':')
        return -1;
    c->p++;
    skip_ws(c);
    return k;
}

