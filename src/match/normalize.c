#include "match/normalize.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "match/fold_table.h"

/* DESIGN
 *
 * norm_name makes one pass over the input, decoding UTF-8, and writes the
 * folded letters of each word contiguously into a scratch buffer while
 * recording words (offset, length, a few flags) in an array. Word-level
 * rules then work on that array: single letters separated by exactly one dot
 * merge into the word before ("s.a.r.l" is one word), company suffixes are
 * dropped from the end while at least one word would remain, then a leading
 * "the". The surviving words are appended to the output with single spaces. */

typedef struct {
	size_t off, len;     /* bytes in the scratch buffer */
	size_t ncp;          /* input code points folded into the word */
	unsigned letter : 1; /* a single letter, or letters merged by dots */
	unsigned amp : 1;    /* the word "&" */
	unsigned dot_before : 1; /* separated from the previous word by one '.' */
} word_t;

typedef struct {
	buf_t text;
	word_t *w;
	size_t n, cap;
	word_t small[32];
	int in_word;
	size_t sep;     /* separator characters since the last word */
	int sep_is_dot; /* ... and the only one was '.' */
	int cur_digit;  /* the current word holds a digit or non-Latin text */
} words_t;

/* Latin-1 U+00C0..U+00FF then Latin Extended-A U+0100..U+017F folded to one
 * ASCII letter; upper-case codes stand for two letters (A=ae, T=th, S=ss,
 * I=ij, O=oe) and ' ' for a non-letter (the signs x and /). */
static const char latin_fold[] =
	"aaaaaaAceeeeiiiidnooooo ouuuuyTSaaaaaaAceeeeiiiidnooooo ouuuuyTy"
	"aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiiiIIjjkkkllllllllll"
	"nnnnnnnnnooooooOOrrrrrrssssssssttttttuuuuuuuuuuuuwwyyyzzzzzzs";
_Static_assert(sizeof latin_fold - 1 == 0x180 - 0xC0, "latin_fold covers U+00C0..U+017F");

/* Suffix words, longest phrases first; each entry is one to three words.
 * Banks spell legal forms out ("Sendirian Berhad", "Public Limited
 * Company", "S/B"): a name score that counts every word must not see them. */
static const char *const suffixes[][3] = {
	{"sp", "z", "oo"}, {"sdn", "bhd"}, {"sendirian", "berhad"}, {"s", "b"}, {"&", "co"}, {"and", "co"},
	{"&", "company"}, {"and", "company"}, {"\xce\xb1", "\xce\xb5"} /* Greek Α.Ε. */,
	{"bhd"}, {"berhad"}, {"ltd"}, {"limited"}, {"llc"},
	{"inc"}, {"incorporated"}, {"gmbh"}, {"co"}, {"company"}, {"private"}, {"public"},
	{"corp"}, {"corporation"}, {"plc"}, {"pty"}, {"pvt"},
	{"pte"}, {"sa"}, {"sarl"}, {"sas"}, {"bv"}, {"nv"}, {"ag"}, {"kg"}, {"ab"}, {"aps"}, {"as"}, {"asa"},
	{"oy"}, {"oyj"}, {"lda"}, {"spa"}, {"srl"}, {"kk"}, {"llp"}, {"\xce\xb1\xce\xb5"} /* ΑΕ */,
	{"\xce\xb5\xcf\x80\xce\xb5"} /* ΕΠΕ */, {"\xce\xb9\xce\xba\xce\xb5"} /* ΙΚΕ */,
};

/* Legal forms written before the name: Russian and Ukrainian "ООО",
 * "ЗАО", "ОАО", "ПАО", "АО", "ИП", "ТОВ"; Indonesian "PT", "CV". */
static const char *const prefixes[] = {
	"\xd0\xbe\xd0\xbe\xd0\xbe", "\xd0\xb7\xd0\xb0\xd0\xbe", "\xd0\xbe\xd0\xb0\xd0\xbe",
	"\xd0\xbf\xd0\xb0\xd0\xbe", "\xd0\xb0\xd0\xbe", "\xd0\xb8\xd0\xbf", "\xd1\x82\xd0\xbe\xd0\xb2",
	"pt", "cv",
};

static size_t utf8_next(const unsigned char *s, size_t n, uint32_t *cp);
static void put_upper_ascii(buf_t *out, const char *s, size_t n);
static int is_separator_cp(uint32_t c);
static int is_apostrophe(uint32_t c);
static void word_char(words_t *ws, const char *p, size_t n, int digit);
static void word_end(words_t *ws);
static void word_sep(words_t *ws, uint32_t c);
static int word_is(const words_t *ws, size_t i, const char *s);
static int has_word(const words_t *ws, size_t from, size_t to);

void norm_name(const char *in, size_t len, buf_t *out)
{
	const unsigned char *s = (const unsigned char *)in;
	words_t ws = {.text = BUF_INIT, .w = NULL, .n = 0, .cap = 32};
	ws.w = ws.small;
	for (size_t i = 0; i < len;) {
		uint32_t c;
		size_t l = utf8_next(s + i, len - i, &c);
		const char *raw = in + i;
		i += l;
		if (c < 0x80) {
			if (c >= 'A' && c <= 'Z') {
				char lc = (char)(c - 'A' + 'a');
				word_char(&ws, &lc, 1, 0);
			} else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
				word_char(&ws, raw, 1, c <= '9');
			} else if (c == '&') {
				word_end(&ws);
				word_char(&ws, "&", 1, 0);
				ws.w[ws.n - 1].amp = 1;
				word_end(&ws);
			} else if (!is_apostrophe(c)) {
				word_sep(&ws, c);
			}
		} else if (c >= 0xC0 && c < 0x180) {
			char f = latin_fold[c - 0xC0];
			static const char *const two[] = {['A'] = "ae", ['T'] = "th", ['S'] = "ss",
			                                  ['I'] = "ij", ['O'] = "oe"};
			if (f == ' ')
				word_sep(&ws, c);
			else if (f >= 'a')
				word_char(&ws, &f, 1, 0);
			else
				word_char(&ws, two[(unsigned char)f], 2, 0);
		} else if (c == 0xAA || c == 0xBA) {
			word_char(&ws, c == 0xAA ? "a" : "o", 1, 0); /* ordinal indicators */
		} else if (c == 0xB9 || c == 0xB2 || c == 0xB3) {
			word_char(&ws, c == 0xB9 ? "1" : c == 0xB2 ? "2" : "3", 1, 1);
		} else if (is_apostrophe(c)) {
			continue;
		} else if (c == 0xFFFFFFFF || is_separator_cp(c)) {
			word_sep(&ws, c);
		} else {
			/* Another script's letter: case-folded (Greek and Cyrillic
			 * also lose their accents). Counted like a digit so that it
			 * never joins a dotted acronym. */
			size_t fl;
			const char *f = norm_fold(c, &fl);
			if (f)
				word_char(&ws, f, fl, 1);
			else
				word_char(&ws, raw, l, 1);
		}
	}
	word_end(&ws);

	/* Strip suffixes from the end while a real word (not a leading "the",
	 * not "&") would remain before them; then a leading "the" likewise. */
	size_t from = ws.n && word_is(&ws, 0, "the") ? 1 : 0;
	for (size_t k = 0; k < sizeof prefixes / sizeof prefixes[0]; k++)
		if (ws.n > from + 1 && word_is(&ws, from, prefixes[k]) && has_word(&ws, from + 1, ws.n)) {
			from++;
			break;
		}
	for (int again = 1; again;) {
		again = 0;
		for (size_t k = 0; k < sizeof suffixes / sizeof suffixes[0]; k++) {
			size_t nw = suffixes[k][2] ? 3 : suffixes[k][1] ? 2 : 1;
			if (ws.n < nw)
				continue;
			size_t at = ws.n - nw;
			bool all = true;
			for (size_t j = 0; j < nw && all; j++)
				all = word_is(&ws, at + j, suffixes[k][j]);
			if (!all || !has_word(&ws, from, at))
				continue;
			ws.n = at;
			again = 1;
			break;
		}
	}
	size_t first = from && has_word(&ws, from, ws.n) ? from : 0;

	int any = 0;
	for (size_t k = first; k < ws.n; k++) {
		if (ws.w[k].amp)
			continue;
		if (any)
			buf_putc(out, ' ');
		buf_put(out, ws.text.p + ws.w[k].off, ws.w[k].len);
		any = 1;
	}
	if (!any)
		buf_put(out, "", 0); /* still NUL-terminated when empty */
	if (ws.w != ws.small)
		free(ws.w);
	buf_free(&ws.text);
}

void norm_invoice(const char *in, size_t len, buf_t *out)
{
	const unsigned char *s = (const unsigned char *)in;
	buf_reserve(out, len);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = s[i];
		switch (c) {
		case ' ': case '\t': case '\n': case '\r': case '\v': case '\f':
		case '-': case '_': case '/': case '#': case '.':
			continue;
		default:
			break;
		}
		if (c == 0xC2 && i + 1 < len && s[i + 1] == 0xA0) { /* no-break space */
			i++;
			continue;
		}
		if (c == 0xE2 && i + 2 < len &&
		    ((s[i + 1] == 0x80 && s[i + 2] >= 0x90 && s[i + 2] <= 0x95) ||
		     (s[i + 1] == 0x88 && s[i + 2] == 0x92))) { /* dashes, minus */
			i += 2;
			continue;
		}
		if (c >= 0x80) {
			uint32_t cp;
			size_t l = utf8_next(s + i, len - i, &cp);
			size_t fl;
			const char *f = cp != 0xFFFFFFFF ? norm_fold(cp, &fl) : NULL;
			if (f)
				put_upper_ascii(out, f, fl);
			else
				buf_put(out, in + i, l);
			i += l - 1;
			continue;
		}
		if (c >= 'a' && c <= 'z')
			c = (unsigned char)(c - 'a' + 'A');
		buf_putc(out, (char)c);
	}
	buf_put(out, "", 0); /* NUL-terminated even if nothing was kept */
}

size_t norm_tokens(const char *s, size_t len, slice_t *tok, size_t max)
{
	size_t k = 0;
	for (size_t i = 0; i < len;) {
		while (i < len && (s[i] == ' ' || (s[i] >= '\t' && s[i] <= '\r')))
			i++;
		if (i == len)
			break;
		size_t start = i;
		while (i < len && !(s[i] == ' ' || (s[i] >= '\t' && s[i] <= '\r')))
			i++;
		if (k < max)
			tok[k] = (slice_t){s + start, i - start};
		k++;
	}
	return k;
}

/* Decodes one code point at s; an invalid byte gives 0xFFFFFFFF and length 1,
 * so malformed input only ever separates words. */
static size_t utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
	uint32_t c = s[0], min;
	size_t need;
	*cp = c;
	if (c < 0x80)
		return 1;
	*cp = 0xFFFFFFFF;
	if (c >= 0xC2 && c <= 0xDF)
		need = 1, c &= 0x1F, min = 0x80;
	else if (c >= 0xE0 && c <= 0xEF)
		need = 2, c &= 0x0F, min = 0x800;
	else if (c >= 0xF0 && c <= 0xF4)
		need = 3, c &= 0x07, min = 0x10000;
	else
		return 1;
	if (n <= need)
		return 1;
	for (size_t i = 1; i <= need; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 1;
		c = (c << 6) | (s[i] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return 1;
	*cp = c;
	return need + 1;
}

/* Non-ASCII punctuation, symbols and spaces that separate words. Letters of
 * other scripts are not listed and stay part of words. */
static int is_separator_cp(uint32_t c)
{
	return (c >= 0x80 && c <= 0xBF && c != 0xB5) || /* C1 controls, Latin-1 signs */
	       (c >= 0x2000 && c <= 0x206F) ||           /* general punctuation */
	       (c >= 0x20A0 && c <= 0x20CF) ||           /* currency signs */
	       (c >= 0x3000 && c <= 0x303F) ||           /* CJK punctuation */
	       (c >= 0xFF01 && c <= 0xFF0F) || (c >= 0xFF1A && c <= 0xFF20) ||
	       (c >= 0xFF3B && c <= 0xFF40) || (c >= 0xFF5B && c <= 0xFF65) ||
	       c == 0xFEFF || c == 0x1680;
}

/* Apostrophes join rather than separate: bank statements write "OBRIEN" and
 * "MACYS" for O'Brien and Macy's. */
static int is_apostrophe(uint32_t c)
{
	return c == '\'' || c == '`' || c == 0x2018 || c == 0x2019 || c == 0x02BC ||
	       c == 0xB4;
}

static void word_char(words_t *ws, const char *p, size_t n, int digit)
{
	if (!ws->in_word) {
		if (ws->n == ws->cap) {
			size_t cap = ws->cap * 2;
			word_t *w = xmalloc(cap * sizeof *w);
			memcpy(w, ws->w, ws->n * sizeof *w);
			if (ws->w != ws->small)
				free(ws->w);
			ws->w = w;
			ws->cap = cap;
		}
		int dot = ws->n > 0 && ws->sep == 1 && ws->sep_is_dot;
		ws->w[ws->n++] = (word_t){.off = ws->text.len, .dot_before = dot};
		ws->in_word = 1;
		ws->cur_digit = 0;
	}
	word_t *w = &ws->w[ws->n - 1];
	buf_put(&ws->text, p, n);
	w->len += n;
	w->ncp++;
	ws->cur_digit |= digit;
	ws->sep = 0;
	ws->sep_is_dot = 0;
}

static void word_end(words_t *ws)
{
	if (!ws->in_word)
		return;
	ws->in_word = 0;
	word_t *w = &ws->w[ws->n - 1];
	w->letter = w->ncp == 1 && !ws->cur_digit && !w->amp;
	/* Words are contiguous in the scratch text, so merging a dotted letter
	 * into the acronym before it is only a matter of lengths. */
	if (w->letter && w->dot_before && ws->n > 1 && ws->w[ws->n - 2].letter) {
		ws->w[ws->n - 2].len += w->len;
		ws->n--;
	}
}

static void word_sep(words_t *ws, uint32_t c)
{
	word_end(ws);
	ws->sep++;
	ws->sep_is_dot = ws->sep == 1 && c == '.';
}

static int word_is(const words_t *ws, size_t i, const char *s)
{
	size_t n = strlen(s);
	return ws->w[i].len == n && memcmp(ws->text.p + ws->w[i].off, s, n) == 0;
}

/* Whether words [from, to) hold one that will be printed (not "&"). */
static int has_word(const words_t *ws, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		if (!ws->w[i].amp)
			return 1;
	return 0;
}

const char *norm_fold(uint32_t cp, size_t *len)
{
	size_t lo = 0, hi = FOLD_COUNT;
	while (lo < hi) {
		size_t m = lo + (hi - lo) / 2;
		if (fold_cp[m] < cp)
			lo = m + 1;
		else
			hi = m;
	}
	if (lo == FOLD_COUNT || fold_cp[lo] != cp)
		return NULL;
	*len = fold_at[lo] & 15;
	return (const char *)fold_pool + (fold_at[lo] >> 4);
}

/* A folding may give ASCII ("K" Kelvin sign -> "k"): invoice numbers keep
 * ASCII letters upper-case whatever their origin. */
static void put_upper_ascii(buf_t *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		buf_putc(out, s[i] >= 'a' && s[i] <= 'z' ? (char)(s[i] - 'a' + 'A') : s[i]);
}

/* Words banks put before the payer's name. */
static const char *const payer_noise[] = {
	"payment from ", "pymt from ", "pmt from ", "trf from ", "transfer from ", "tt from ", "ibg from ",
	"giro from ", "duitnow from ", "fpx from ", "remittance from ", "inward remittance from ", "from ",
};

void norm_payer(const char *in, size_t len, buf_t *out)
{
	size_t at = out->len;
	norm_name(in, len, out);
	for (size_t k = 0; k < sizeof payer_noise / sizeof payer_noise[0]; k++) {
		size_t n = strlen(payer_noise[k]);
		if (out->len - at > n && !memcmp(out->p + at, payer_noise[k], n)) {
			memmove(out->p + at, out->p + at + n, out->len - at - n + 1);
			out->len -= n;
			break;
		}
	}
}

/* ---- structured invoice numbers ---- */

typedef struct {
	size_t off, len; /* in the key text */
	bool digits;
	size_t sep;      /* separator characters before the run */
	bool hash;       /* '#' among them */
	size_t zeros;    /* leading zeros dropped (digit runs) */
} run_t;

/* Splits s into letter and digit runs: digits lose leading zeros (one
 * stays for "0"), letters are folded (ASCII upper-cased). Everything else
 * separates; sep counts the characters between runs. Returns the number
 * of runs (at most max are stored); txt receives the runs' text. */
static size_t split_runs(const char *in, size_t len, buf_t *txt, run_t *run, size_t max)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t n = 0, sep = 0;
	bool hash = false;
	int cur = -1; /* -1 none, 0 letters, 1 digits */
	for (size_t i = 0; i < len;) {
		uint32_t c;
		size_t l = utf8_next(s + i, len - i, &c);
		int kind;
		if (c < 0x80)
			kind = c >= '0' && c <= '9' ? 1 : ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') ? 0 : -1;
		else
			kind = c == 0xFFFFFFFF || is_separator_cp(c) || c == 0xA0 ? -1 : 0;
		if (kind < 0) {
			cur = -1;
			sep += l;
			hash |= c == '#';
			i += l;
			continue;
		}
		if (kind != cur) {
			if (n == max)
				return n;
			run[n] = (run_t){.off = txt->len, .digits = kind == 1, .sep = sep, .hash = hash};
			n++;
			sep = 0;
			hash = false;
			cur = kind;
		}
		run_t *r = &run[n - 1];
		if (kind == 1) {
			if (c == '0' && r->len == 0) {
				/* a leading zero: written only if the run ends here */
				r->zeros++;
				if (i + 1 >= len || s[i + 1] < '0' || s[i + 1] > '9') {
					buf_putc(txt, '0');
					r->len++;
					r->zeros--;
				}
			} else {
				buf_putc(txt, (char)c);
				r->len++;
			}
		} else if (c < 0x80) {
			buf_putc(txt, (char)(c >= 'a' ? c - 'a' + 'A' : c));
			r->len++;
		} else {
			size_t fl;
			const char *f = norm_fold(c, &fl);
			size_t before = txt->len;
			if (f)
				put_upper_ascii(txt, f, fl);
			else
				buf_put(txt, in + i, l);
			r->len += txt->len - before;
		}
		i += l;
	}
	return n;
}

static void put_runs(buf_t *out, const buf_t *txt, const run_t *run, size_t from, size_t to)
{
	for (size_t k = from; k < to; k++) {
		if (k > from)
			buf_putc(out, '.');
		buf_put(out, txt->p + run[k].off, run[k].len);
	}
}

#define KEY_RUNS 16

void norm_invoice_key(const char *in, size_t len, buf_t *out)
{
	/* The runs are written contiguously where the key goes, then spread
	 * out from the last one to make room for the dots: no scratch buffer
	 * (called for every invoice of a run). */
	run_t run[KEY_RUNS];
	size_t n = split_runs(in, len, out, run, KEY_RUNS);
	if (n > 1) {
		buf_reserve(out, n - 1);
		size_t end = out->len + n - 1;
		for (size_t k = n; k-- > 0;) {
			size_t dst = end - run[k].len;
			memmove(out->p + dst, out->p + run[k].off, run[k].len);
			if (k)
				out->p[--dst] = '.';
			end = dst;
		}
		out->len += n - 1;
	}
	buf_put(out, "", 0);
}

/* Words that say "an invoice number follows" rather than being part of it. */
static const char *const hints[] = {
	"INV", "INVOICE", "INVOICES", "NO", "NR", "NUM", "NUMBER", "BILL", "FAKTURA", "RECHNUNG", "FACTURE",
	"FACTURA", "FATTURA", "FACT", "\xe2\x84\x96" /* № */,
};

static bool is_hint(const buf_t *txt, const run_t *r)
{
	if (r->digits)
		return false;
	for (size_t k = 0; k < sizeof hints / sizeof hints[0]; k++)
		if (strlen(hints[k]) == r->len && !memcmp(txt->p + r->off, hints[k], r->len))
			return true;
	return false;
}

static bool is_year(const buf_t *txt, const run_t *r)
{
	const char *p = txt->p + r->off;
	return r->digits && r->len == 4 && !r->zeros && (!memcmp(p, "19", 2) || !memcmp(p, "20", 2));
}

size_t norm_ref_keys(const char *ref, size_t len, buf_t *out, norm_key *keys, size_t max)
{
	/* The runs' text goes to out first (the keys point after it): no
	 * scratch buffer per payment. put_runs reads txt, which is out, while
	 * appending to it: copy through a reserved buffer. */
	buf_t *txt = out;
	run_t run[64];
	size_t n = split_runs(ref, len, txt, run, 64), nk = 0;
	buf_reserve(out, max * (txt->len + n + 1) + 1); /* every key fits without moving txt */
	for (size_t i = 0; i < n && nk < max; i++) {
		if (!run[i].digits || (i > 0 && run[i - 1].digits && run[i].sep <= 1))
			continue; /* not the start of a number */
		size_t j = i + 1;
		while (j < n && run[j].digits && run[j].sep == 1 && j - i < 4)
			j++;
		/* The word just before, and the one before it ("Inv. No. 42"). */
		const run_t *pre = i > 0 && !run[i - 1].digits && run[i].sep <= 3 ? &run[i - 1] : NULL;
		const run_t *pre2 = pre && i > 1 && !run[i - 2].digits && pre->sep <= 3 ? &run[i - 2] : NULL;
		bool hint = run[i].hash || (pre && (is_hint(txt, pre) || pre->hash)) || (pre2 && is_hint(txt, pre2));
		if (pre && nk < max) {
			keys[nk].off = out->len;
			put_runs(out, txt, run, (size_t)(pre - run), j);
			keys[nk].len = out->len - keys[nk].off;
			keys[nk++].bare = false;
		}
		bool bare = (!pre || hint) &&
		            (hint || run[i].zeros || (j - i >= 2 && is_year(txt, &run[i])));
		if (bare && nk < max) {
			keys[nk].off = out->len;
			put_runs(out, txt, run, i, j);
			keys[nk].len = out->len - keys[nk].off;
			keys[nk++].bare = true;
		}
		i = j - 1;
	}
	buf_put(out, "", 0);
	return nk;
}
