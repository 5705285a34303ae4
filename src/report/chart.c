#include "report/chart.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

const chart_rgb CHART_INK = {0.13, 0.15, 0.18};
const chart_rgb CHART_GREY = {0.42, 0.45, 0.50};
const chart_rgb CHART_RULE = {0.82, 0.84, 0.87};
const chart_rgb CHART_IN = {0.16, 0.50, 0.38};
const chart_rgb CHART_OUT = {0.88, 0.52, 0.40};
const chart_rgb CHART_ACCENT = {0.15, 0.33, 0.60};
const chart_rgb CHART_BAD = {0.75, 0.18, 0.15};
const chart_rgb CHART_GOOD = {0.12, 0.50, 0.25};

#define FONT "DejaVu Sans"

static void set_rgb(cairo_t *cr, chart_rgb c)
{
	cairo_set_source_rgb(cr, c.r, c.g, c.b);
}

/* 10^minor, minor within ISO 4217's 0 to 4 (anything else reads as 2). */
static uint64_t unit_of(int minor)
{
	static const uint64_t u[] = {1, 10, 100, 1000, 10000};
	return minor >= 0 && minor <= 4 ? u[minor] : 100;
}

void chart_money(int64_t cents, int minor, char *buf, size_t n)
{
	uint64_t a = cents < 0 ? (uint64_t)0 - (uint64_t)cents : (uint64_t)cents, unit = unit_of(minor);
	char digits[32];
	int len = snprintf(digits, sizeof digits, "%llu", (unsigned long long)(a / unit));
	char out[48];
	size_t o = 0;
	if (cents < 0)
		out[o++] = '-';
	for (int i = 0; i < len; i++) {
		if (i && (len - i) % 3 == 0)
			out[o++] = ',';
		out[o++] = digits[i];
	}
	if (unit > 1)
		snprintf(out + o, sizeof out - o, ".%0*llu", minor >= 0 && minor <= 4 ? minor : 2,
		         (unsigned long long)(a % unit));
	else
		out[o] = '\0';
	snprintf(buf, n, "%s", out);
}

void chart_money_short(int64_t cents, int minor, char *buf, size_t n)
{
	double v = (double)cents / (double)unit_of(minor), a = fabs(v);
	if (a >= 1e9)
		snprintf(buf, n, "%.1fB", v / 1e9);
	else if (a >= 1e6)
		snprintf(buf, n, "%.1fM", v / 1e6);
	else if (a >= 1e3)
		snprintf(buf, n, "%.0fk", v / 1e3);
	else
		snprintf(buf, n, "%.0f", v);
}

static void font(cairo_t *cr, double size, bool bold)
{
	cairo_select_font_face(cr, FONT, CAIRO_FONT_SLANT_NORMAL, bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
	cairo_set_font_size(cr, size);
}

double chart_text(cairo_t *cr, double x, double y, const char *s, double size, bool bold, chart_align al,
                  chart_rgb c)
{
	font(cr, size, bold);
	cairo_text_extents_t te;
	cairo_text_extents(cr, s, &te);
	double w = te.x_advance;
	double x0 = al == CHART_LEFT ? x : al == CHART_CENTER ? x - w / 2 : x - w;
	set_rgb(cr, c);
	cairo_move_to(cr, x0, y);
	cairo_show_text(cr, s);
	return w;
}

void chart_text_fit(cairo_t *cr, double x, double y, double w, const char *s, double size, bool bold,
                    chart_align al, chart_rgb c)
{
	font(cr, size, bold);
	cairo_text_extents_t te;
	cairo_text_extents(cr, s, &te);
	if (te.x_advance <= w) {
		chart_text(cr, x, y, s, size, bold, al, c);
		return;
	}
	size_t len = strlen(s);
	char *t = xmalloc(len + 4);
	while (len > 0) {
		len--;
		/* never cut inside a UTF-8 sequence */
		while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80)
			len--;
		memcpy(t, s, len);
		memcpy(t + len, "...", 4);
		cairo_text_extents(cr, t, &te);
		if (te.x_advance <= w)
			break;
	}
	chart_text(cr, x, y, t, size, bold, al, c);
	free(t);
}

void chart_rule(cairo_t *cr, double x0, double y0, double x1, double y1, double width, chart_rgb c)
{
	set_rgb(cr, c);
	cairo_set_line_width(cr, width);
	cairo_move_to(cr, x0, y0);
	cairo_line_to(cr, x1, y1);
	cairo_stroke(cr);
}

void chart_fill(cairo_t *cr, double x, double y, double w, double h, chart_rgb c)
{
	set_rgb(cr, c);
	cairo_rectangle(cr, x, y, w, h);
	cairo_fill(cr);
}

double chart_table(cairo_t *cr, double x, double y, const chart_table_spec *t, char ***rows, int nrows)
{
	double size = t->size > 0 ? t->size : 9;
	double rh = size * 1.75, total = 0;
	for (int c = 0; c < t->ncols; c++)
		total += t->widths[c];
	/* header */
	double cx = x;
	for (int c = 0; c < t->ncols; c++) {
		double w = t->widths[c];
		double tx = t->align[c] == CHART_RIGHT ? cx + w - 4 : t->align[c] == CHART_CENTER ? cx + w / 2 : cx + 4;
		chart_text_fit(cr, tx, y + rh * 0.68, w - 8, t->head[c], size, true, t->align[c], CHART_INK);
		cx += w;
	}
	y += rh;
	chart_rule(cr, x, y, x + total, y, 1.0, CHART_INK);
	for (int r = 0; r < nrows; r++) {
		bool last = r == nrows - 1 && t->bold_last;
		if (r % 2 == 1 && !last)
			chart_fill(cr, x, y, total, rh, (chart_rgb){0.95, 0.96, 0.97});
		if (last)
			chart_rule(cr, x, y, x + total, y, 0.8, CHART_INK);
		cx = x;
		for (int c = 0; c < t->ncols; c++) {
			double w = t->widths[c];
			const char *s = rows[r][c];
			double tx = t->align[c] == CHART_RIGHT ? cx + w - 4 : t->align[c] == CHART_CENTER ? cx + w / 2 : cx + 4;
			if (s)
				chart_text_fit(cr, tx, y + rh * 0.68, w - 8, s, size, last, t->align[c], CHART_INK);
			cx += w;
		}
		y += rh;
	}
	chart_rule(cr, x, y, x + total, y, 0.5, CHART_RULE);
	return y;
}

/* A "nice" axis over [lo, hi] (cents) with about four steps. */
static void nice_axis(int64_t lo, int64_t hi, int minor, double *a0, double *a1, double *step)
{
	double l = (double)(lo < 0 ? lo : 0), h = (double)(hi > 0 ? hi : 0), unit = (double)unit_of(minor);
	if (h - l < unit)
		h = l + unit;
	double raw = (h - l) / 4;
	double mag = pow(10, floor(log10(raw)));
	double f = raw / mag;
	double s = f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10;
	*step = s * mag;
	*a0 = floor(l / *step) * *step;
	*a1 = ceil(h / *step) * *step;
}

/* Draws the value axis (gridlines and labels) inside the plot box;
 * returns the y of value 0 through scale. */
static void value_axis(cairo_t *cr, double x, double y, double w, double h, double a0, double a1, double step,
                       int minor)
{
	for (double v = a0; v <= a1 + step / 2; v += step) {
		double py = y + h - (v - a0) / (a1 - a0) * h;
		chart_rule(cr, x, py, x + w, py, v == 0 ? 0.9 : 0.4, v == 0 ? CHART_GREY : CHART_RULE);
		char lab[32];
		chart_money_short((int64_t)llround(v), minor, lab, sizeof lab);
		chart_text(cr, x - 4, py + 3, lab, 7.5, false, CHART_RIGHT, CHART_GREY);
	}
}

void chart_bars(cairo_t *cr, double x, double y, double w, double h, const char *const *labels, int n,
                const int64_t *a, const int64_t *b, int minor, chart_rgb ca, chart_rgb cb)
{
	if (n <= 0)
		return;
	int64_t lo = 0, hi = 0;
	for (int i = 0; i < n; i++) {
		int64_t va = a[i], vb = b ? b[i] : 0;
		lo = va < lo ? va : lo;
		hi = va > hi ? va : hi;
		lo = vb < lo ? vb : lo;
		hi = vb > hi ? vb : hi;
	}
	double a0, a1, step;
	nice_axis(lo, hi, minor, &a0, &a1, &step);
	double ph = h - 16; /* labels below */
	value_axis(cr, x, y, w, ph, a0, a1, step, minor);
	double gw = w / n, bw = gw * (b ? 0.36 : 0.6);
	double zero = y + ph - (0 - a0) / (a1 - a0) * ph;
	for (int i = 0; i < n; i++) {
		double gx = x + gw * i + gw * (b ? 0.14 : 0.2);
		for (int s = 0; s < (b ? 2 : 1); s++) {
			double v = (double)(s ? b[i] : a[i]);
			double py = y + ph - (v - a0) / (a1 - a0) * ph;
			chart_fill(cr, gx + s * bw, py < zero ? py : zero, bw, fabs(zero - py), s ? cb : ca);
		}
		chart_text_fit(cr, x + gw * i + gw / 2, y + h - 3, gw, labels[i], 7.5, false, CHART_CENTER, CHART_GREY);
	}
}

void chart_line(cairo_t *cr, double x, double y, double w, double h, const char *const *labels, int n,
                const int64_t *v, int minor, chart_rgb c)
{
	if (n <= 0)
		return;
	int64_t lo = v[0], hi = v[0];
	for (int i = 1; i < n; i++) {
		lo = v[i] < lo ? v[i] : lo;
		hi = v[i] > hi ? v[i] : hi;
	}
	double a0, a1, step;
	nice_axis(lo, hi, minor, &a0, &a1, &step);
	double ph = h - 16, gw = w / n;
	value_axis(cr, x, y, w, ph, a0, a1, step, minor);
	cairo_set_source_rgb(cr, c.r, c.g, c.b);
	cairo_set_line_width(cr, 1.8);
	for (int i = 0; i < n; i++) {
		double px = x + gw * i + gw / 2, py = y + ph - ((double)v[i] - a0) / (a1 - a0) * ph;
		if (i == 0)
			cairo_move_to(cr, px, py);
		else
			cairo_line_to(cr, px, py);
	}
	cairo_stroke(cr);
	for (int i = 0; i < n; i++) {
		double px = x + gw * i + gw / 2, py = y + ph - ((double)v[i] - a0) / (a1 - a0) * ph;
		/* text leaves a current point: a bare arc would join it with a line */
		cairo_new_path(cr);
		cairo_arc(cr, px, py, 2.2, 0, 2 * M_PI);
		cairo_fill(cr);
		chart_text_fit(cr, px, y + h - 3, gw, labels[i], 7.5, false, CHART_CENTER, CHART_GREY);
		cairo_set_source_rgb(cr, c.r, c.g, c.b);
	}
}

void chart_hbars(cairo_t *cr, double x, double y, double w, double h, const char *const *labels, int n,
                 const int64_t *v, int minor, chart_rgb c)
{
	if (n <= 0)
		return;
	int64_t hi = 1;
	for (int i = 0; i < n; i++)
		hi = v[i] > hi ? v[i] : hi;
	double lw = w * 0.30, vw = 70, bw = w - lw - vw - 8, rh = h / n;
	for (int i = 0; i < n; i++) {
		double ry = y + rh * i;
		chart_text_fit(cr, x + lw - 6, ry + rh * 0.62, lw - 6, labels[i], 8, false, CHART_RIGHT, CHART_INK);
		double len = v[i] > 0 ? bw * (double)v[i] / (double)hi : 0;
		chart_fill(cr, x + lw, ry + rh * 0.18, len, rh * 0.64, c);
		char m[40];
		chart_money(v[i], minor, m, sizeof m);
		chart_text(cr, x + lw + len + 4, ry + rh * 0.62, m, 7.5, false, CHART_LEFT, CHART_GREY);
	}
}

double chart_legend(cairo_t *cr, double x, double y, const char *label, chart_rgb c)
{
	chart_fill(cr, x, y - 7, 9, 9, c);
	return x + 13 + chart_text(cr, x + 13, y + 1, label, 8, false, CHART_LEFT, CHART_INK) + 12;
}
