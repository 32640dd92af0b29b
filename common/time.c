/* Calendar arithmetic and ISO-8601 parsing shared by the DSL (timestamp
 * fields, to_millis / to_iso) and the HTTP API (from / to of window queries):
 * one grammar for users wherever they write a time. */
#include <stdbool.h>

#include "common.h"

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (Howard
 * Hinnant's days_from_civil). */
int64_t sl_days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* The inverse (civil_from_days). */
void sl_civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* Exactly `digits` decimal digits at s[*i]; advances *i. */
static int digits_at(const char *s, size_t n, size_t *i, int digits, int *v)
{
    if (n - *i < (size_t)digits)
        return -1;
    int r = 0;
    for (int k = 0; k < digits; k++) {
        char c = s[*i + (size_t)k];
        if (c < '0' || c > '9')
            return -1;
        r = r * 10 + (c - '0');
    }
    *i += (size_t)digits;
    *v = r;
    return 0;
}

static int days_in_month(int y, int m)
{
    static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : dm[m - 1];
}

int sl_time_parse_iso(const char *s, size_t n, int64_t *ms)
{
    size_t i = 0;
    int y, mo, d, h = 0, mi = 0, sec = 0, frac = 0;
    if (digits_at(s, n, &i, 4, &y) || i >= n || s[i++] != '-' || digits_at(s, n, &i, 2, &mo) || i >= n ||
        s[i++] != '-' || digits_at(s, n, &i, 2, &d))
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
        return -1;
    int64_t off_min = 0;
    if (i < n) {
        if (s[i] != 'T' && s[i] != 't' && s[i] != ' ')
            return -1;
        i++;
        if (digits_at(s, n, &i, 2, &h) || i >= n || s[i++] != ':' || digits_at(s, n, &i, 2, &mi))
            return -1;
        if (i < n && s[i] == ':') {
            i++;
            if (digits_at(s, n, &i, 2, &sec))
                return -1;
            if (i < n && (s[i] == '.' || s[i] == ',')) {
                i++;
                size_t start = i;
                int scale = 100;
                while (i < n && s[i] >= '0' && s[i] <= '9') {
                    frac += (s[i] - '0') * scale; /* milliseconds: digits past the third are dropped */
                    scale /= 10;
                    i++;
                }
                if (i == start || i - start > 9)
                    return -1;
            }
        }
        if (h > 23 || mi > 59 || sec > 60) /* 60: a leap second, read as :59 + 1 s */
            return -1;
        if (i < n) {
            if ((s[i] == 'Z' || s[i] == 'z') && i + 1 == n) {
                i++;
            } else if (s[i] == '+' || s[i] == '-') {
                int sign = s[i] == '-' ? -1 : 1, oh, om;
                i++;
                if (digits_at(s, n, &i, 2, &oh))
                    return -1;
                if (i < n && s[i] == ':')
                    i++;
                if (digits_at(s, n, &i, 2, &om) || oh > 23 || om > 59)
                    return -1;
                off_min = sign * (oh * 60 + om);
            } else {
                return -1;
            }
        }
    }
    if (i != n)
        return -1;
    int64_t secs = sl_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off_min * 60;
    *ms = secs * 1000 + frac;
    return 0;
}
