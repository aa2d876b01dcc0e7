/* Numbers of an event (state_version, tokens, latency) read from the body exactly as msgspec
   reads them (issue 19), for the batch decoder; included by _ingestnative.c after
   _ingestjson.h. A float is the nearest double to its decimal text (ties to even): up to 15
   digits by one division, up to 19 by integer arithmetic (a guard's perf_counter latency has
   16-17), more by the C library's strtod; an exponent or a sign is left to msgspec. */

/* a non-negative JSON integer literal (no sign, fraction or exponent), or null → None */
static PyObject *
uint_value(Cur *c)
{
    if (c->p < c->end && *c->p == 'n')
        return literal(c) == 0 ? Py_NewRef(Py_None) : NULL;
    const char *s = c->p;
    long long v = 0;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
        if (c->p - s >= 18)
            return NULL;
        v = v * 10 + (*c->p++ - '0');
    }
    if (c->p == s || (*s == '0' && c->p - s > 1) || !delimiter(c))
        return NULL;
    PyObject *r = PyLong_FromLongLong(v);
    if (r == NULL)
        PyErr_Clear();
    return r;
}

/* m / 10^k (m < 2^64, k <= 19) as the nearest double (ties to even), by integer arithmetic:
   q = floor(m * 2^sh / 10^k) taken to 64 significant bits, the bits below and the division's
   remainder (sticky) decide the rounding to 53 bits. The result is normal here (m >= 1,
   10^-19 <= value < 2^64). -1 (not done) without 128-bit integers. */
static int
ratio_to_double(uint64_t m, int k, double *out)
{
#if defined(__SIZEOF_INT128__)
    static const uint64_t p10u[20] = {1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL, 10000000ULL,
                                      100000000ULL, 1000000000ULL, 10000000000ULL, 100000000000ULL,
                                      1000000000000ULL, 10000000000000ULL, 100000000000000ULL,
                                      1000000000000000ULL, 10000000000000000ULL, 100000000000000000ULL,
                                      1000000000000000000ULL, 10000000000000000000ULL};
    if (m == 0) {
        *out = 0.0;
        return 0;
    }
    uint64_t d = p10u[k];
    int lm = 64 - __builtin_clzll(m), ld = 64 - __builtin_clzll(d);
    int sh = 64 - lm + ld;  /* q in [2^63, 2^65) */
    unsigned __int128 num = (unsigned __int128)m << sh;
    unsigned __int128 q = num / d;
    int sticky = (num % d) != 0;
    int e = -sh;
    if (q >> 64) {
        sticky |= (int)(q & 1);
        q >>= 1;
        e += 1;
    }
    uint64_t w = (uint64_t)q, low = w & 0x7ff, top = w >> 11;
    if (low > 0x400 || (low == 0x400 && (sticky || (top & 1))))
        top++;
    *out = ldexp((double)top, e + 11);
    return 0;
#else
    (void)m, (void)k, (void)out;
    return -1;
#endif
}

/* a non-negative JSON number without exponent (JSON's grammar) as a float, or null */
static PyObject *
ufloat_value(Cur *c)
{
    if (c->p < c->end && *c->p == 'n')
        return literal(c) == 0 ? Py_NewRef(Py_None) : NULL;
    const char *s = c->p, *q = c->p, *e = c->end;
    if (q >= e || *q < '0' || *q > '9')
        return NULL;
    if (*q == '0')
        q++;
    else
        while (q < e && *q >= '0' && *q <= '9')
            q++;
    if (q < e && *q == '.') {
        const char *f = ++q;
        while (q < e && *q >= '0' && *q <= '9')
            q++;
        if (q == f)
            return NULL;
    }
    if (q < e && (*q == 'e' || *q == 'E'))
        return NULL;  /* an exponent (never sent by guards): msgspec's rounding decides */
    c->p = q;
    if (!delimiter(c))
        return NULL;
    uint64_t m = 0;
    int nd = 0, frac = 0, dot = 0;
    for (const char *x = s; x < q; x++) {
        if (*x == '.') {
            dot = 1;
            continue;
        }
        if (nd || *x != '0')
            nd++;
        if (nd > 19)
            break;
        m = m * 10 + (uint64_t)(*x - '0');
        frac += dot;
    }
    double v;
    static const double p10[23] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12,
                                   1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    if (nd <= 15 && frac <= 22) {
        /* the digits are an exact double and so is 10^k: one division is correctly rounded */
        v = (double)m / p10[frac];
    } else if (nd <= 19 && frac <= 19 && !ratio_to_double(m, frac, &v)) {
        ;  /* a guard's latency (up to 17 digits): exact integer division, rounded once */
    } else {
        char buf[40];
        if (q - s >= (Py_ssize_t)sizeof buf)
            return NULL;
        memcpy(buf, s, q - s);
        buf[q - s] = '\0';
        /* More digits: the C library's strtod, correctly rounded like msgspec's own.
           A locale whose decimal point is not '.' stops it early, and the check below then
           leaves the body to msgspec: never a wrong value. */
        char *stop;
        v = strtod(buf, &stop);
        if (*stop != '\0' || !isfinite(v))
            return NULL;
    }
    return PyFloat_FromDouble(v);
}

