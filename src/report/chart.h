/* chart: drawing for the printed report on a cairo context: text, money
 * with thousands separators, tables and bar/line charts. Units are
 * PostScript points (1/72 inch); sizes are chosen to read on A4 paper
 * (body text 9 pt, nothing under 7.5 pt). Colours are few and also
 * distinguishable in greyscale print (lightness differs, not just hue). */
#ifndef BRISK_CHART_H
#define BRISK_CHART_H

#include <cairo.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
	double r, g, b;
} chart_rgb;

extern const chart_rgb CHART_INK, CHART_GREY, CHART_RULE, CHART_IN, CHART_OUT, CHART_ACCENT, CHART_BAD, CHART_GOOD;

typedef enum { CHART_LEFT, CHART_CENTER, CHART_RIGHT } chart_align;

/* Formats minor units of a currency with minor decimals as
 * "-1,234,567.89" (2), "-1,234,567" (0), "1.250" (3) into buf (n >= 32).
 * Every amount below takes the same minor. */
void chart_money(int64_t cents, int minor, char *buf, size_t n);
/* Axis labels: "-1.2M", "350k", "900". */
void chart_money_short(int64_t cents, int minor, char *buf, size_t n);

/* Draws s with its baseline at y, aligned on x. Returns the width. */
double chart_text(cairo_t *cr, double x, double y, const char *s, double size, bool bold, chart_align al,
                  chart_rgb c);
/* Draws s cut with "..." to fit width w. */
void chart_text_fit(cairo_t *cr, double x, double y, double w, const char *s, double size, bool bold,
                    chart_align al, chart_rgb c);
void chart_rule(cairo_t *cr, double x0, double y0, double x1, double y1, double width, chart_rgb c);
void chart_fill(cairo_t *cr, double x, double y, double w, double h, chart_rgb c);

/* A table: ncols columns of the given widths and alignments, a bold
 * header row, rows of cells (rows[r][c], NULL = empty), zebra stripes.
 * bold_last sets the last row in bold (a total). Returns the y below it. */
typedef struct {
	int ncols;
	const char *const *head;
	const double *widths;
	const chart_align *align;
	double size; /* font size; row height follows */
	bool bold_last;
} chart_table_spec;
double chart_table(cairo_t *cr, double x, double y, const chart_table_spec *t, char ***rows, int nrows);

/* Vertical grouped bars: n groups labelled labels[i], series a (and b when
 * not NULL) side by side, a zero line and a labelled value axis. */
void chart_bars(cairo_t *cr, double x, double y, double w, double h, const char *const *labels, int n,
                const int64_t *a, const int64_t *b, int minor, chart_rgb ca, chart_rgb cb);
/* A line over n points (with a value axis), labels under every point. */
void chart_line(cairo_t *cr, double x, double y, double w, double h, const char *const *labels, int n,
                const int64_t *v, int minor, chart_rgb c);
/* Horizontal bars, one per label, the value written after each bar. */
void chart_hbars(cairo_t *cr, double x, double y, double w, double h, const char *const *labels, int n,
                 const int64_t *v, int minor, chart_rgb c);
/* A legend swatch with its label; returns the x after it. */
double chart_legend(cairo_t *cr, double x, double y, const char *label, chart_rgb c);

#endif
