/* reply: helpers handlers use to shape their answers (any thread). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/mem.h"
#include "http/server_int.h"

void http_add_header(http_req_t *r, const char *name, const char *value)
{
	if (r->nxh < HTTP_MAX_XHEADERS) {
		r->xh_name[r->nxh] = name;
		r->xh_value[r->nxh++] = xstrdup(value);
	}
}

bool http_body_is_json(const http_req_t *r)
{
	const char *ct = r->content_type;
	if (!ct)
		return true;
	ct += strspn(ct, " \t");
	size_t n = strcspn(ct, ";");
	while (n && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
		n--;
	/* the media type itself, exactly; parameters (charset) may follow */
	return n == 16 && !strncasecmp(ct, "application/json", 16);
}

void http_json(http_req_t *r, int status)
{
	r->status = status;
	r->content_type_out = "application/json";
}

const char *reply_status_title(int status)
{
	switch (status) {
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Content";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	case 507: return "Insufficient Storage";
	default: return "Error";
	}
}

void http_problem(http_req_t *r, int status, const char *fmt, ...)
{
	char detail[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof detail, fmt, ap);
	va_end(ap);
	buf_reset(&r->out);
	buf_printf(&r->out, "{\"type\":\"about:blank\",\"title\":\"%s\",\"status\":%d,\"detail\":", reply_status_title(status),
	           status);
	buf_json_str(&r->out, detail, strlen(detail));
	buf_puts(&r->out, ",\"instance\":");
	buf_json_str(&r->out, r->path ? r->path : "", r->path ? strlen(r->path) : 0);
	buf_puts(&r->out, ",\"request_id\":");
	buf_json_str(&r->out, r->request_id, strlen(r->request_id));
	buf_putc(&r->out, '}');
	r->status = status;
	r->content_type_out = "application/problem+json";
	r->etag[0] = '\0';
}

bool http_store_failed(http_req_t *r, int status, const char *err)
{
	/* SQLite says "database or disk is full"; files say strerror(ENOSPC) */
	if (strstr(err, "disk is full") || strstr(err, "No space left")) {
		http_problem(r, 507, "the disk is full, so nothing was written; free some space and retry (%s)", err);
		return true;
	}
	http_problem(r, status, "%s", err);
	return false;
}

bool http_not_modified(http_req_t *r, const char *etag)
{
	snprintf(r->etag, sizeof r->etag, "%s", etag);
	if (!r->if_none_match)
		return false;
	/* If-None-Match may list several tags, or be "*". */
	const char *p = r->if_none_match;
	if (!strcmp(p, "*") || strstr(p, etag)) {
		r->status = 304;
		buf_reset(&r->out);
		return true;
	}
	return false;
}

