#include "report/export.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <xlsxwriter.h>

#include "core/clock.h"
#include "core/buf.h"
#include "core/currency.h"
#include "core/date.h"
#include "core/mem.h"
#include "core/money.h"
#include "store/settings.h"
#include "ingest/csv.h"

/* DESIGN
 * The exporter does not know SQL: it asks analytics_list for pages of
 * 1000 rows and turns each page's JSON back into cells, so filters, sort
 * and column rules are the list API's by construction. Parsing a page
 * costs about what producing it did; an export is bound by the store
 * anyway. XLSX is written by libxlsxwriter in constant-memory mode (each
 * row is flushed to the sheet's temporary file once the next starts), and
 * a sheet holds at most 1,048,576 rows, so longer exports continue on a
 * new sheet.
 *
 * Text never becomes a formula: CSV cells that a spreadsheet would evaluate
 * (= + - @ TAB CR first) get the apostrophe prefix of csv_needs_guard, which
 * the importer removes again; XLSX text is always a string cell, where a
 * leading "=" is inert. Money and dates stay numeric. XLSX text is also
 * escaped the OOXML way (_xHHHH_) where XML cannot hold a character (U+FFFE,
 * U+FFFF) and where the text itself looks like such an escape. */

#define PAGE 1000
#define XLSX_MAX_ROWS 1048576
#define EXCEL_EPOCH 25569 /* days from 1899-12-30 (Excel's day 0) to 1970-01-01 */

bool export_parse(export_req *q, entity_kind kind, int64_t org, export_get_fn get, void *ud, char *why,
                  size_t whylen)
{
	memset(q, 0, sizeof *q);
	q->kind = kind;
	q->format = EXPORT_CSV;
	analytics_list_params_init(&q->lp, org);
	return analytics_list_filters(&q->lp, kind, get, ud, why, whylen);
}

bool export_format_parse(const char *s, export_format *out)
{
	if (!strcmp(s, "csv"))
		*out = EXPORT_CSV;
	else if (!strcmp(s, "xlsx"))
		*out = EXPORT_XLSX;
	else
		return false;
	return true;
}

const char *export_format_ext(export_format f)
{
	return f == EXPORT_XLSX ? "xlsx" : "csv";
}

const char *export_content_type(export_format f)
{
	return f == EXPORT_XLSX ? "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	                        : "text/csv; charset=utf-8";
}

/* ---- columns ---- */

typedef struct {
	const char *name;
	col_type type; /* COL_MONEY for invoices' outstanding */
} column;

static int columns_of(const export_req *q, column *cols)
{
	const entity_def *d = entity_get(q->kind);
	uint32_t f = q->lp.fields;
	int n = 0;
	int nc = analytics_list_ncols(q->kind);
	for (int i = 0; i < nc; i++)
		if (i == 0 || !f || (f & (1u << i)))
			cols[n++] = (column){d->cols[i].name, d->cols[i].type};
	if (q->kind == ENT_INVOICES && (!f || (f & ANALYTICS_FIELD_OUTSTANDING)))
		cols[n++] = (column){"outstanding", COL_MONEY};
	return n;
}

/* ---- writers ---- */

typedef struct {
	export_format format;
	const column *cols;
	int ncols;
	FILE *csv;
	buf_t line;
	buf_t text; /* an escaped XLSX string */
	lxw_workbook *wb;
	lxw_worksheet *ws;
	lxw_format *f_head, *f_money, *f_date;
	uint32_t row;   /* next row of the sheet */
	int sheets;
	const char *entity;
	lxw_error lxw_rc;
	int minor; /* the org's currency's decimals */
} writer;

/* Decimals of a row's amounts: its own currency's when it names one. */
static int row_minor(const writer *w, json_t *row)
{
	json_t *c = json_object_get(row, "currency");
	int m = json_is_string(c) ? currency_minor(json_string_value(c), json_string_length(c)) : -1;
	return m >= 0 ? m : w->minor;
}

static void xlsx_sheet(writer *w)
{
	char name[32];
	w->sheets++;
	if (w->sheets == 1)
		snprintf(name, sizeof name, "%s", w->entity);
	else
		snprintf(name, sizeof name, "%.20s (%d)", w->entity, w->sheets);
	w->ws = workbook_add_worksheet(w->wb, name);
	for (int i = 0; i < w->ncols; i++) {
		double width = w->cols[i].type == COL_MONEY ? 14 : w->cols[i].type == COL_DATE ? 12 : 20;
		worksheet_set_column(w->ws, (lxw_col_t)i, (lxw_col_t)i, width, NULL);
		worksheet_write_string(w->ws, 0, (lxw_col_t)i, w->cols[i].name, w->f_head);
	}
	worksheet_freeze_panes(w->ws, 1, 0);
	w->row = 1;
}

static int writer_open(writer *w, const char *tmp, const char *dir, char *err, size_t errlen)
{
	if (w->format == EXPORT_CSV) {
		w->csv = fopen(tmp, "w");
		if (!w->csv) {
			snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
			return -1;
		}
		buf_reset(&w->line);
		for (int i = 0; i < w->ncols; i++) {
			if (i)
				buf_putc(&w->line, ',');
			buf_puts(&w->line, w->cols[i].name);
		}
		buf_puts(&w->line, "\r\n");
		return 0;
	}
	lxw_workbook_options o = {.constant_memory = LXW_TRUE, .tmpdir = (char *)dir};
	w->wb = workbook_new_opt(tmp, &o);
	if (!w->wb) {
		snprintf(err, errlen, "cannot create the workbook %s", tmp);
		return -1;
	}
	w->f_head = workbook_add_format(w->wb);
	format_set_bold(w->f_head);
	format_set_bottom(w->f_head, LXW_BORDER_THIN);
	w->f_money = workbook_add_format(w->wb);
	format_set_num_format(w->f_money, "#,##0.00");
	w->f_date = workbook_add_format(w->wb);
	format_set_num_format(w->f_date, "yyyy-mm-dd");
	xlsx_sheet(w);
	return 0;
}

/* A CSV text cell, guarded against formula evaluation (see DESIGN). */
static void csv_text(buf_t *b, const char *s, size_t n)
{
	if (!csv_needs_guard(s, n)) {
		buf_csv_field(b, s, n);
		return;
	}
	buf_t g = BUF_INIT;
	buf_putc(&g, '\'');
	buf_put(&g, s, n);
	buf_csv_field(b, g.p, g.len);
	buf_free(&g);
}

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* XLSX cell text: U+FFFE and U+FFFF, which XML cannot carry, become _xFFFE_
 * and _xFFFF_, and a literal "_xHHHH_" gets its "_" escaped as _x005F_ so a
 * reader does not decode it. Control characters are escaped by
 * libxlsxwriter itself. Returns s, or the escaped copy kept in tmp. */
static const char *xlsx_text(buf_t *tmp, const char *s, size_t n)
{
	size_t i = 0;
	for (; i < n; i++)
		if (s[i] == '_' || (unsigned char)s[i] == 0xef)
			break;
	if (i == n)
		return s;
	buf_reset(tmp);
	buf_put(tmp, s, i);
	for (; i < n; i++) {
		const unsigned char *u = (const unsigned char *)s + i;
		if (u[0] == 0xef && i + 2 < n && u[1] == 0xbf && (u[2] == 0xbe || u[2] == 0xbf)) {
			buf_puts(tmp, u[2] == 0xbe ? "_xFFFE_" : "_xFFFF_");
			i += 2;
		} else if (s[i] == '_' && i + 6 < n && s[i + 1] == 'x' && is_hex(s[i + 2]) && is_hex(s[i + 3]) &&
		           is_hex(s[i + 4]) && is_hex(s[i + 5]) && s[i + 6] == '_') {
			buf_puts(tmp, "_x005F_");
		} else {
			buf_putc(tmp, s[i]);
		}
	}
	return tmp->p;
}

/* Writes one JSON row. Returns 0 or -1 (disk). */
static int writer_row(writer *w, json_t *row, char *err, size_t errlen)
{
	int minor = row_minor(w, row);
	if (w->format == EXPORT_CSV) {
		for (int i = 0; i < w->ncols; i++) {
			if (i)
				buf_putc(&w->line, ',');
			json_t *v = json_object_get(row, w->cols[i].name);
			if (json_is_integer(v) && w->cols[i].type == COL_MONEY) {
				char m[MONEY_BUFSZ];
				buf_put(&w->line, m, money_format_minor((int64_t)json_integer_value(v), minor, m));
			} else if (json_is_integer(v)) {
				buf_put_i64(&w->line, (int64_t)json_integer_value(v));
			} else if (json_is_string(v)) {
				csv_text(&w->line, json_string_value(v), json_string_length(v));
			}
		}
		buf_puts(&w->line, "\r\n");
		/* written in blocks: one fwrite per ~64 KiB */
		if (w->line.len >= 65536) {
			if (fwrite(w->line.p, 1, w->line.len, w->csv) != w->line.len) {
				snprintf(err, errlen, "cannot write the export: %s", strerror(errno));
				return -1;
			}
			buf_reset(&w->line);
		}
		return 0;
	}
	if (w->row >= XLSX_MAX_ROWS)
		xlsx_sheet(w);
	for (int i = 0; i < w->ncols; i++) {
		json_t *v = json_object_get(row, w->cols[i].name);
		lxw_col_t col = (lxw_col_t)i;
		lxw_error rc = LXW_NO_ERROR;
		date_t d;
		if (json_is_integer(v) && w->cols[i].type == COL_MONEY)
			rc = worksheet_write_number(w->ws, w->row, col,
			                            (double)json_integer_value(v) / (minor == 0 ? 1.0 : minor == 3 ? 1000.0 :
			                                                             minor == 4 ? 10000.0 : 100.0),
			                            w->f_money);
		else if (json_is_integer(v))
			rc = worksheet_write_number(w->ws, w->row, col, (double)json_integer_value(v), NULL);
		else if (json_is_string(v) && w->cols[i].type == COL_DATE &&
		         date_parse(json_string_value(v), json_string_length(v), &d))
			rc = worksheet_write_number(w->ws, w->row, col, (double)d + EXCEL_EPOCH, w->f_date);
		else if (json_is_string(v) && json_string_length(v))
			rc = worksheet_write_string(w->ws, w->row, col,
			                            xlsx_text(&w->text, json_string_value(v), json_string_length(v)), NULL);
		if (rc != LXW_NO_ERROR) {
			snprintf(err, errlen, "cannot write the workbook: %s", lxw_strerror(rc));
			return -1;
		}
	}
	w->row++;
	return 0;
}

static int fsync_path(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

/* Finishes the file; -1 with a reason. Always releases the writer. */
static int writer_close(writer *w, bool ok, const char *tmp, char *err, size_t errlen)
{
	int rc = ok ? 0 : -1;
	if (w->csv) {
		if (ok && w->line.len && fwrite(w->line.p, 1, w->line.len, w->csv) != w->line.len) {
			snprintf(err, errlen, "cannot write the export: %s", strerror(errno));
			rc = -1;
		}
		if (ok && rc == 0 && (fflush(w->csv) != 0 || fsync(fileno(w->csv)) != 0)) {
			snprintf(err, errlen, "cannot write the export: %s", strerror(errno));
			rc = -1;
		}
		if (fclose(w->csv) != 0 && rc == 0) {
			snprintf(err, errlen, "cannot write the export: %s", strerror(errno));
			rc = -1;
		}
	}
	if (w->wb) {
		lxw_error e = workbook_close(w->wb);
		if (ok && e != LXW_NO_ERROR) {
			snprintf(err, errlen, "cannot write the workbook: %s", lxw_strerror(e));
			rc = -1;
		}
		if (ok && rc == 0 && fsync_path(tmp) != 0) {
			snprintf(err, errlen, "cannot write the workbook: %s", strerror(errno));
			rc = -1;
		}
	}
	buf_free(&w->line);
	buf_free(&w->text);
	return rc;
}

/* ---- the estimate ---- */

static uint64_t estimate(store_conn_t *c, const export_req *q)
{
	static const char *const sql[ENT__COUNT] = {
		[ENT_COSTS] = "SELECT count(*) FROM costs WHERE org = ? AND date BETWEEN ? AND ?",
		[ENT_SALES_ORDERS] = "SELECT count(*) FROM sales_orders WHERE org = ? AND date BETWEEN ? AND ?",
		[ENT_INVOICES] = "SELECT count(*) FROM invoices WHERE org = ? AND issue_date BETWEEN ? AND ?",
		[ENT_PAYMENTS] = "SELECT count(*) FROM payments WHERE org = ? AND date BETWEEN ? AND ?",
		[ENT_LEADS] = "SELECT count(*) FROM leads WHERE org = ? AND created_date BETWEEN ? AND ?",
	};
	store_stmt_t *st = store_prepare(c, sql[q->kind]);
	if (!st)
		return 0;
	store_bind_i64(st, 1, q->lp.org);
	store_bind_i64(st, 2, q->lp.has_from ? q->lp.from : INT32_MIN);
	store_bind_i64(st, 3, q->lp.has_to ? q->lp.to : INT32_MAX);
	uint64_t n = store_step(st) == STORE_ROW ? (uint64_t)store_col_i64(st, 0) : 0;
	store_reset(st);
	return n;
}

int export_run(store_t *s, const export_req *q, const char *path, export_progress_fn progress, void *ud,
               atomic_int *cancel, uint64_t *rows, char *err, size_t errlen)
{
	column cols[ENTITY_MAXCOLS + 1];
	writer w = {.format = q->format, .cols = cols, .ncols = columns_of(q, cols), .entity = entity_get(q->kind)->name};
	char *tmp = xmalloc(strlen(path) + 8);
	sprintf(tmp, "%s.tmp", path);
	char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	else
		strcpy(dir, ".");
	uint64_t n = 0;
	int rc = -1;
	if (writer_open(&w, tmp, dir, err, errlen) != 0)
		goto out;
	store_conn_t *c = store_read_begin(s);
	org_settings set;
	w.minor = settings_get(c, q->lp.org, &set) ? set.minor : 2;
	uint64_t est = estimate(c, q);
	analytics_list_params lp = q->lp;
	lp.limit = PAGE;
	lp.cursor = NULL;
	char *cursor = NULL;
	buf_t page = BUF_INIT;
	double last = 0;
	bool ok = true;
	for (;;) {
		if (cancel && atomic_load(cancel)) {
			snprintf(err, errlen, "cancelled after %llu rows; no file was kept", (unsigned long long)n);
			ok = false;
			break;
		}
		buf_reset(&page);
		if (analytics_list(c, q->kind, &lp, &page, err, errlen) != 0) {
			ok = false;
			break;
		}
		json_error_t jerr;
		json_t *root = json_loadb(page.p, page.len, 0, &jerr);
		json_t *items = json_object_get(root, "items");
		if (!json_is_array(items)) {
			snprintf(err, errlen, "the list returned unreadable JSON: %s", jerr.text);
			json_decref(root);
			ok = false;
			break;
		}
		size_t i;
		json_t *row;
		json_array_foreach(items, i, row) {
			if (writer_row(&w, row, err, errlen) != 0) {
				ok = false;
				break;
			}
			n++;
		}
		json_t *next = json_object_get(root, "next_cursor");
		bool more = ok && json_is_string(next);
		if (more) {
			free(cursor);
			cursor = xstrdup(json_string_value(next));
			lp.cursor = cursor;
		}
		json_decref(root);
		if (progress && clock_now_s() - last >= 0.1) {
			last = clock_now_s();
			progress(ud, n, est > n ? est : n);
		}
		if (!more)
			break;
	}
	store_read_end(c);
	buf_free(&page);
	free(cursor);
	if (writer_close(&w, ok, tmp, err, errlen) != 0 || !ok) {
		unlink(tmp);
		goto out;
	}
	if (rename(tmp, path) != 0) {
		snprintf(err, errlen, "cannot move the export into place at %s: %s", path, strerror(errno));
		unlink(tmp);
		goto out;
	}
	if (progress)
		progress(ud, n, n);
	*rows = n;
	rc = 0;
out:
	free(tmp);
	free(dir);
	return rc;
}
