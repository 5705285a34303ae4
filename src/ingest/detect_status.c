/* detect_status: what a status column of an export says, in brisk's
 * words. An invoice export's Void/Cancelled/Draft are void invoices (no
 * receivable); a shop's order words (Shopify's paid, refunded; WooCommerce's
 * processing, on-hold) are a sales order's pending/confirmed/shipped/
 * completed/cancelled. Recoded with `values` when every word is known;
 * otherwise said, never guessed. */
#include "ingest/detect_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "ingest/csv.h"
#include "ingest/optlist.h"

/* An invoice's status word: 1 void (cancelled, a draft never sent), 0
 * open (sent, overdue, paid: brisk settles from payments), -1 unknown. */
static int invoice_state(const char *v)
{
	static const char *const voids[] = {"void", "voided", "cancelled", "canceled", "cancel", "draft", "storniert",
	                                    "storno", "entwurf", "annulé", "annulée", "annulee", "brouillon", "anulada",
	                                    "anulado", "borrador", "annullata", "bozza", "geannuleerd", "concept",
	                                    "deleted", "rejected", "written off", NULL};
	static const char *const opens[] = {"open", "sent", "overdue", "paid", "partially paid", "partiallypaid",
	                                    "partially_paid", "unpaid", "not paid", "due", "viewed", "issued", "posted",
	                                    "pending", "approved", "awaiting payment", "outstanding", "authorised",
	                                    "authorized", "submitted", "bezahlt", "offen", "überfällig", "teilbezahlt",
	                                    "payée", "payé", "impayée", "en retard", "pagada", "pendiente", "vencida",
	                                    "betaald", "openstaand", "vervallen", "o", "c", "closed", NULL};
	const char *const *lists[2] = {voids, opens};
	for (int l = 0; l < 2; l++)
		for (int i = 0; lists[l][i]; i++)
			if (!strcasecmp(v, lists[l][i]))
				return l ? 0 : 1;
	return -1;
}

/* A sales order's status in brisk's words (pending, confirmed, shipped,
 * completed, cancelled), NULL when unknown. */
static const char *order_state(const char *v)
{
	static const struct {
		const char *word, *state;
	} words[] = {
		{"pending", "pending"}, {"open", "pending"}, {"new", "pending"}, {"on-hold", "pending"},
		{"on hold", "pending"}, {"unpaid", "pending"}, {"awaiting payment", "pending"}, {"offen", "pending"},
		{"neu", "pending"}, {"en attente", "pending"}, {"pendiente", "pending"}, {"confirmed", "confirmed"},
		{"authorized", "confirmed"}, {"authorised", "confirmed"}, {"processing", "confirmed"},
		{"partially_paid", "confirmed"}, {"partially paid", "confirmed"}, {"in progress", "confirmed"},
		{"bestätigt", "confirmed"}, {"in bearbeitung", "confirmed"}, {"confirmée", "confirmed"},
		{"confirmado", "confirmed"}, {"shipped", "shipped"}, {"fulfilled", "shipped"}, {"in transit", "shipped"},
		{"versandt", "shipped"}, {"versendet", "shipped"}, {"expédiée", "shipped"}, {"enviado", "shipped"},
		{"verzonden", "shipped"}, {"completed", "completed"}, {"complete", "completed"}, {"paid", "completed"},
		{"closed", "completed"}, {"delivered", "completed"}, {"invoiced", "completed"}, {"done", "completed"},
		{"partially_refunded", "completed"}, {"partially refunded", "completed"}, {"abgeschlossen", "completed"},
		{"bezahlt", "completed"}, {"geliefert", "completed"}, {"terminée", "completed"}, {"payée", "completed"},
		{"completado", "completed"}, {"pagado", "completed"}, {"voltooid", "completed"}, {"betaald", "completed"},
		{"cancelled", "cancelled"}, {"canceled", "cancelled"}, {"refunded", "cancelled"}, {"voided", "cancelled"},
		{"void", "cancelled"}, {"failed", "cancelled"}, {"declined", "cancelled"}, {"expired", "cancelled"},
		{"returned", "cancelled"}, {"storniert", "cancelled"}, {"erstattet", "cancelled"},
		{"annulée", "cancelled"}, {"remboursée", "cancelled"}, {"cancelado", "cancelled"},
		{"reembolsado", "cancelled"}, {"geannuleerd", "cancelled"},
	};
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
		if (!strcasecmp(v, words[i].word))
			return words[i].state;
	return NULL;
}

static const char *invoice_word(const char *v)
{
	int s = invoice_state(v);
	return s < 0 ? NULL : s ? "void" : "open";
}

/* The `values` option recoding column col's distinct words with fn, as
 * status=WORD:STATE,... in b. False with the first unknown word in
 * *unknown (NULL: too many words, or one no option can carry). *differ
 * counts the words fn turns into another word. */
static bool recode_words(const ctx *c, int col, const char *(*fn)(const char *), buf_t *b, const char **unknown,
                         int *differ)
{
	const char *seen[16];
	int nseen = 0;
	*unknown = NULL;
	*differ = 0;
	for (int i = c->data; i < c->g.nrows; i++) {
		const char *v = c->g.n[i] >= 2 ? dt_cell(&c->g, i, col) : "";
		bool dup = !*v;
		for (int k = 0; k < nseen && !dup; k++)
			dup = !strcmp(seen[k], v);
		if (dup)
			continue;
		const char *w = fn(v);
		if (!w || nseen == 16 || strchr(v, ',') || strchr(v, ':')) {
			*unknown = v;
			return false;
		}
		seen[nseen++] = v;
		*differ += strcasecmp(v, w) != 0;
		buf_printf(b, "%s%s:%s", b->len ? "," : "status=", v, w);
	}
	return true;
}

void dt_pick_invoice_status(ctx *c)
{
	const entity_def *d = entity_get(c->kind);
	int st = entity_col_index(d, "status", 6);
	if (c->kind != ENT_INVOICES || st < 0 || c->col[st] >= 0 || dt_user_gives(c, "status") || dt_given(c, "values"))
		return;
	bool used[CSV_MAX_FIELDS];
	dt_used_columns(c, used);
	int col = dt_best_column(c, ROLE_STATUS, used);
	if (col < 0)
		return;
	/* a void invoice stored open would overstate the receivables */
	buf_t b = BUF_INIT;
	const char *unknown;
	int differ;
	if (!recode_words(c, col, invoice_word, &b, &unknown, &differ)) {
		dt_note(c, 10, "'%s' holds a status brisk does not know ('%.30s'): not read; give --map status=... "
		               "--values status=VALUE:open|void", dt_cell(&c->g, c->header, col), unknown ? unknown : "");
		buf_free(&b);
		return;
	}
	if (!strstr(b.p ? b.p : "", ":void")) { /* every one open: the default says it */
		buf_free(&b);
		return;
	}
	c->col[st] = col;
	buf_putc(&b, '\0');
	dt_choose(c, "values", b.p);
	dt_note(c, 5, "'%s' says which invoices are void (%s): they are stored void, not as receivables",
	        dt_cell(&c->g, c->header, col), b.p + 7);
	buf_free(&b);
}

/* A lead's status in brisk's words (new, contacted, qualified, proposal,
 * won, lost): Salesforce's, HubSpot's, Zoho's and Pipedrive's defaults. */
static const char *lead_state(const char *v)
{
	static const struct {
		const char *word, *state;
	} words[] = {
		{"new", "new"}, {"open - not contacted", "new"}, {"not contacted", "new"}, {"open", "contacted"},
		{"contacted", "contacted"}, {"working - contacted", "contacted"}, {"attempted to contact", "contacted"},
		{"attempted_to_contact", "contacted"}, {"in_progress", "contacted"}, {"in progress", "contacted"},
		{"connected", "contacted"}, {"contact in future", "contacted"}, {"working", "contacted"},
		{"qualified", "qualified"}, {"pre-qualified", "qualified"}, {"sales qualified lead", "qualified"},
		{"proposal", "proposal"}, {"proposal made", "proposal"}, {"open_deal", "proposal"},
		{"negotiations started", "proposal"}, {"negotiation", "proposal"}, {"won", "won"},
		{"closed - converted", "won"}, {"converted", "won"}, {"closed won", "won"}, {"lost", "lost"},
		{"closed - not converted", "lost"}, {"closed lost", "lost"}, {"unqualified", "lost"},
		{"not qualified", "lost"}, {"junk lead", "lost"}, {"lost lead", "lost"}, {"bad_timing", "lost"},
	};
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
		if (!strcasecmp(v, words[i].word))
			return words[i].state;
	return NULL;
}

/* What a kind's status column is read with. */
typedef struct {
	const char *(*word)(const char *);
	const char *fallback; /* the status of every row of a file without one */
	const char *what, *states;
} status_words;

bool dt_pick_status(ctx *c)
{
	static const status_words orders = {order_state, "completed", "order",
	                                    "pending, confirmed, shipped, completed, cancelled"},
	                          leads = {lead_state, "new", "lead", "new, contacted, qualified, proposal, won, lost"};
	const status_words *sw = c->kind == ENT_SALES_ORDERS ? &orders : c->kind == ENT_LEADS ? &leads : NULL;
	const entity_def *d = entity_get(c->kind);
	int st = entity_col_index(d, "status", 6);
	if (!sw || st < 0 || dt_given(c, "values") || optlist_list_has(dt_given(c, "set"), "status") ||
	    optlist_list_has(dt_given(c, "default"), "status"))
		return true;
	char dflt[32];
	snprintf(dflt, sizeof dflt, "status=%s", sw->fallback);
	if (c->col[st] < 0) {
		/* a shop's export without a status (Superstore): sales made; a
		 * list of leads without one (Pipedrive's): new leads */
		dt_choose(c, "default", dflt);
		dt_note(c, 10, "no status column: every %s is %s", sw->what, sw->fallback);
		return true;
	}
	buf_t b = BUF_INIT;
	const char *unknown;
	int differ;
	char pos[16];
	const char *name = dt_col_name(c, c->col[st], pos);
	if (!recode_words(c, c->col[st], sw->word, &b, &unknown, &differ)) {
		buf_free(&b);
		bool any = false;
		for (int i = c->data; i < c->g.nrows && !any; i++)
			any = c->g.n[i] >= 2 && sw->word(dt_cell(&c->g, i, c->col[st]));
		if (!any && !strcasecmp(name, "state")) {
			/* no word is a status: Superstore's 'State' of Kentucky (an
			 * 'Order Status' of Quotation is asked about, not dropped) */
			dt_note(c, 10, "'%s' holds no %s states ('%.30s'...): not the status; every %s is %s", name, sw->what,
			        unknown ? unknown : "", sw->what, sw->fallback);
			c->col[st] = -1;
			dt_choose(c, "default", dflt);
			return true;
		}
		snprintf(c->why, c->whylen,
		         "'%.40s' holds a%s %s status brisk does not know ('%.30s'): give --values status=WORD:STATE,... "
		         "(states: %s), or --set %s",
		         name, sw->what[0] == 'o' ? "n" : "", sw->what, unknown ? unknown : "", sw->states, dflt);
		return false;
	}
	if (differ) {
		buf_putc(&b, '\0');
		dt_choose(c, "values", b.p);
		dt_note(c, 5, "'%s' says the %ss' states in its words (%s)", name, sw->what, b.p + 7);
	}
	buf_free(&b);
	return true;
}
