/*
 * A small printf: %d %i %u %x %X %o %c %s %p %%, flags '-' '0' '+' ' ', width and precision (also '*'), length
 * modifiers hh h l ll z t j. "\n" goes out as "\r\n" (a raw terminal, as Linux's serial console does).
 * The console is shared by all CPUs: one line-granular lock per call keeps lines whole.
 */
#include "rt.h"

struct out {
    char *buf;      /* NULL: the console */
    size_t size;
    size_t len;
};

static void out_char(struct out *o, char c)
{
    if (o->buf == NULL) {
        if (c == '\n') {
            uart_putc('\r');
        }
        uart_putc(c);
    } else if (o->len + 1 < o->size) {
        o->buf[o->len] = c;
    }
    o->len++;
}

static void out_pad(struct out *o, char c, int n)
{
    while (n-- > 0) {
        out_char(o, c);
    }
}

static void out_number(struct out *o, u64 v, bool negative, unsigned base, bool upper, int width, int prec,
                       bool left, bool zero, char sign)
{
    char tmp[24];
    int n = 0;
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    do {
        tmp[n++] = digits[v % base];
        v /= base;
    } while (v != 0);
    if (prec == 0 && n == 1 && tmp[0] == '0') {
        n = 0;
    }
    char s = negative ? '-' : sign;
    int digits_len = n > prec ? n : prec;
    int total = digits_len + (s != 0);
    if (!left && !(zero && prec < 0)) {
        out_pad(o, ' ', width - total);
    }
    if (s != 0) {
        out_char(o, s);
    }
    if (!left && zero && prec < 0) {
        out_pad(o, '0', width - total);
    }
    out_pad(o, '0', digits_len - n);
    while (n > 0) {
        out_char(o, tmp[--n]);
    }
    if (left) {
        out_pad(o, ' ', width - total);
    }
}

/*
 * The argument of an integer conversion whose length modifier gave `size` (-2 hh, -1 h, 0 int, 1 long), widened to
 * 64 bits: sign-extended for %d and %i, zero-extended for the others.
 */
static u64 int_arg(va_list *ap, int size, bool is_signed)
{
    u64 v = size > 0 ? va_arg(*ap, u64) : va_arg(*ap, unsigned);
    int unused_bits = size > 0 ? 0 : size == 0 ? 32 : size == -1 ? 48 : 56;
    v <<= unused_bits;
    return is_signed ? (u64)((s64)v >> unused_bits) : v >> unused_bits;
}

static void format(struct out *o, const char *fmt, va_list ap)
{
    for (; *fmt != 0; fmt++) {
        if (*fmt != '%') {
            out_char(o, *fmt);
            continue;
        }
        fmt++;
        bool left = false, zero = false;
        char sign = 0;
        for (;; fmt++) {
            if (*fmt == '-') {
                left = true;
            } else if (*fmt == '0') {
                zero = true;
            } else if (*fmt == '+') {
                sign = '+';
            } else if (*fmt == ' ') {
                if (sign == 0) {
                    sign = ' ';
                }
            } else {
                break;
            }
        }
        int width = 0;
        if (*fmt == '*') {
            width = va_arg(ap, int);
            if (width < 0) {
                left = true;
                width = -width;
            }
            fmt++;
        }
        while (*fmt >= '0' && *fmt <= '9') {
            width = width * 10 + (*fmt++ - '0');
        }
        int prec = -1;
        if (*fmt == '.') {
            fmt++;
            prec = 0;
            if (*fmt == '*') {
                prec = va_arg(ap, int);
                fmt++;
            }
            while (*fmt >= '0' && *fmt <= '9') {
                prec = prec * 10 + (*fmt++ - '0');
            }
        }
        int size = 0; /* -2 hh, -1 h, 0 int, 1 long */
        for (;; fmt++) {
            if (*fmt == 'h') {
                size--;
            } else if (*fmt == 'l' || *fmt == 'z' || *fmt == 't' || *fmt == 'j') {
                size = 1;
            } else {
                break;
            }
        }
        char c = *fmt;
        if (c == 0) {
            return;
        }
        switch (c) {
        case 'd':
        case 'i': {
            s64 v = (s64)int_arg(&ap, size, true);
            out_number(o, v < 0 ? (u64)0 - (u64)v : (u64)v, v < 0, 10, false, width, prec, left, zero, sign);
            break;
        }
        case 'u':
        case 'x':
        case 'X':
        case 'o': {
            u64 v = int_arg(&ap, size, false);
            unsigned base = c == 'u' ? 10 : c == 'o' ? 8 : 16;
            out_number(o, v, false, base, c == 'X', width, prec, left, zero, 0);
            break;
        }
        case 'p':
            out_char(o, '0');
            out_char(o, 'x');
            out_number(o, (u64)va_arg(ap, void *), false, 16, false, width, prec, left, zero, 0);
            break;
        case 'c':
            if (!left) {
                out_pad(o, ' ', width - 1);
            }
            out_char(o, (char)va_arg(ap, int));
            if (left) {
                out_pad(o, ' ', width - 1);
            }
            break;
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (s == NULL) {
                s = "(null)";
            }
            int n = 0;
            while (s[n] != 0 && (prec < 0 || n < prec)) {
                n++;
            }
            if (!left) {
                out_pad(o, ' ', width - n);
            }
            for (int i = 0; i < n; i++) {
                out_char(o, s[i]);
            }
            if (left) {
                out_pad(o, ' ', width - n);
            }
            break;
        }
        default:
            out_char(o, '%');
            out_char(o, c);
            break;
        }
    }
}

static spinlock_t console_lock;

int vprintf(const char *fmt, va_list ap)
{
    struct out o = { NULL, 0, 0 };
    u64 daif = irq_save();
    spin_lock(&console_lock);
    format(&o, fmt, ap);
    spin_unlock(&console_lock);
    irq_restore(daif);
    return (int)o.len;
}

int printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vprintf(fmt, ap);
    va_end(ap);
    return n;
}

void puts(const char *s)
{
    printf("%s\n", s);
}

int vsnprintf(char *buf, size_t n, const char *fmt, va_list ap)
{
    struct out o = { buf, n, 0 };
    format(&o, fmt, ap);
    if (n > 0) {
        buf[o.len < n ? o.len : n - 1] = 0;
    }
    return (int)o.len;
}

int snprintf(char *buf, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = vsnprintf(buf, n, fmt, ap);
    va_end(ap);
    return r;
}
