#include "ingest/detect_names.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

/* Names as lowercase UTF-8, most specific first. Each list is what a
 * column of that role is called in exports of banks (DE, AT, CH, NL, BE,
 * FR, ES, IT, PT, PL, UK, US) and accounting packages (QuickBooks, Xero,
 * Sage, DATEV, Lexware), and of HU, RO, the Nordics, IN, AU, NZ. */
static const char *const names[ROLE__COUNT][128] = {
	[ROLE_DATE] = {"buchungstag", "buchungsdatum", "transaction date", "posting date", "booking date", "boekingsdatum",
	               "date",
	               "datum", "fecha", "fecha operación", "fecha operacion", "f. operación", "fecha contable",
	               "date opération", "date operation", "date de l'opération", "date de comptabilisation",
	               "data", "data operacji", "data księgowania", "data transakcji", "data operazione",
	               "data contabile", "posted date", "post date", "trans. date", "trans date", "txn date",
	               "value date", "belegdatum", "datum boeking", "boekdatum", "created date", "order date",
	               "transactiedatum", "wertstellung", "valutadatum", "valuta", "date de valeur", "fecha valor", "buchung", "completed date", "started date", "date completed", "dateop", "date op", "f. operativa", "fecha operativa", "data registrazione", "data contabile", "transaction time", "date/time", "datetime", "data księgowania", "created (utc)", "created",
	               "datum zaúčtování", "datum zauctovani", "datum provedení", "bokföringsdag", "bokforingsdag", "transaktionsdag", "dato", "bokføringsdato", "kirjauspäivä", "kirjauspaiva", "data lançamento", "data lancamento", "data movimento", "data mov.",
	               "posted transactions date", "posted transaction date",
	               "könyvelés dátuma", "konyveles datuma", "tranzakció dátuma", "értéknap", "data tranzactie", "data tranzacției", "data operatiunii", "data înregistrării",
	               "check date", "payment date", "date paid", "paid date", "expense date", "purchase date", "spend date",
	               NULL},
	[ROLE_AMOUNT] = {"betrag", "amount", "bedrag", "importe", "montant", "kwota", "kwota operacji", "importo",
	                 "valor", "montante", "umsatz", "transaction amount", "amount (gbp)", "value", "total",
	                 "total amount", "invoice total", "gross", "bruttobetrag", "brutto", "montant ttc", "net amount",
	                 "sales", "revenue", "betrag (eur)", "sum", "importo (eur)", "kwota transakcji", "einzelbetrag", "amount (eur)", "amount (usd)", "transaction value", "objem", "částka", "castka", "belopp", "beløb", "beløp", "määrä", "maara", "summa", "montant (eur)",
	                 "cad$", "usd$", "aud$", "nzd$", "valor (r$)", "total signed", "amount total", "total in currency signed", "doctotal",
	               "összeg", "osszeg", "suma", "sumă", "valoare",
	               "invoice amount", "invoiceamount", "check amount", "payment amount", "amount paid", "net total", "gross amount",
	               NULL},
	[ROLE_DEBIT] = {"soll", "debit", "débit", "debit amount", "paid out", "money out", "withdrawals",
	                "withdrawal", "withdrawal amount", "cargo", "cargos", "obciążenia", "wypłata", "uitgaven",
	                "af", "ausgang", "ausgabe", "debet", "addebiti", "dare", "spent", "lastschrift", "belastung", "debit amount (gbp)", "withdrawals (-)", "charges", "débit euros", "addebito", "uttak fra konto", "uttak", "ut fra konto", "výdaj", "vydaj",
	               "débito", "debito", "débitos", "terhelés", "debet (-)",
	               NULL},
	[ROLE_CREDIT] = {"haben", "credit", "crédit", "credit amount", "paid in", "money in", "deposits", "deposit",
	                 "deposit amount", "abono", "abonos", "uznania", "wpłata", "inkomsten", "bij", "eingang",
	                 "einnahme", "accrediti", "avere", "received", "gutschrift", "credit amount (gbp)", "deposits (+)", "crédit euros", "accredito", "innskudd på konto", "innskudd", "inn på konto", "příjem", "prijem",
	               "crédito", "credito", "créditos", "jóváírás", "jovairas",
	               NULL},
	[ROLE_INDICATOR] = {"af bij", "af/bij", "bij/af", "debit/credit", "credit/debit", "soll/haben",
	                    "soll/haben-kennzeichen", "s/h", "cr/dr", "dr/cr", "debit credit", "credit debit indicator",
	                    "debit/credit indicator", "d/c", "c/d", "+/-", "sign", "vorzeichen", "sens", "in/out",
	                    NULL},
	[ROLE_PARTY] = {"cardname", "vendor name", "supplier name", "billing name", "customer name", "bill to", "sold to", "buyer", "buyer name", "begünstigter / auftraggeber", "auftraggeber / begünstigter", "begünstigter/auftraggeber",
	                "auftraggeber/begünstigter", "beguenstigter/zahlungspflichtiger", "beguenstigter / zahlungspflichtiger",
	                "name zahlungsbeteiligter", "zahlungspflichtiger", "auftraggeber", "empfänger", "begünstigter",
	                "naam / omschrijving", "naam tegenpartij", "tegenpartij", "naam", "payee", "payer", "payee name",
	                "counterparty", "counter party", "counterparty name", "merchant", "merchant name", "vendor",
	                "supplier", "lieferant", "kreditor", "customer", "customer name", "client", "kunde",
	                "klant", "cliente", "contact", "contactname", "contact name", "name", "beneficiario",
	                "ordenante", "bénéficiaire", "tiers", "nadawca / odbiorca", "nadawca/odbiorca",
	                "dane kontrahenta", "kontrahent", "odbiorca", "nadawca", "partner name", "name / description", "zahlungspflichtige*r", "zahlungsempfänger*in", "zahlungsempfänger", "auftraggeber/empfänger", "auftraggeber / empfänger", "empfänger/zahlungspflichtiger", "empfänger / zahlungspflichtiger", "partnername", "partner", "payer name", "supplierfound", "supplier found", "counter party", "naam tegenpartij bevat", "beneficiary", "other party", "description", "description1", "description 1", "descripción",
	                "descripcion", "lançamento", "lancamento", "histórico", "historico",
	                "název protiúčtu", "nazev protiuctu", "název účtu protiúčtu", "protistrana", "saaja/maksaja", "maksaja/saaja", "maksaja", "saaja", "namn", "navn", "mottaker", "betalingsmottaker", "nome", "beneficiário",
	               "partner neve", "partner név", "kedvezményezett neve", "kedvezményezett", "ellenoldali név", "beneficiar", "platitor", "plătitor", "nume beneficiar",
	               NULL},
	[ROLE_TEXT] = {"description2", "description 2", "verwendungszweck", "vorgang/verwendungszweck", "mededelingen", "omschrijving", "omschrijving-1", "description", "memo",
	               "reference", "referenz", "details", "narrative", "transaction description", "concepto",
	               "libellé", "libelle", "libellé de l'opération", "libellé opération", "tytuł", "tytul",
	               "tytuł operacji", "opis", "opis operacji", "descrizione", "causale", "descrição", "buchungstext",
	               "text", "notes", "note", "memo/description", "reference number", "detalles", "observaciones",
	               "communication", "mitteilung", "beschreibung", "payment reference", "label", "operazione", "dettagli", "beschreibung1", "avisierungstext", "buchungsdetails", "verwendungszweck/ buchungstext", "purpose", "betreff", "particulars", "reference 1", "referencia 1", "subject", "item title", "zpráva pro příjemce", "zprava pro prijemce", "poznámka", "poznamka", "zpráva", "popis", "rubrik", "meddelande", "tekst", "forklaring", "beskrivelse", "beskrivning", "viesti", "descricao", "descrição do movimento", "causale",
	               "narration", "remarks", "transaction remarks", "transaction details", "transaction particulars",
	               "közlemény", "kozlemeny", "descriere", "detalii", "explicatie", "explicație",
	               NULL},
	[ROLE_CATEGORY] = {"category", "split" /* QuickBooks' transaction list: the other account */, "kategorie", "categorie", "categoría", "categoria", "catégorie", "kategoria",
	                   "expense account", "sachkonto", "cost type",
	                   "kostenart", "type de dépense", "expense type", "expense category", "expenditure category", "spend category", "spending category", "cost category",
	               NULL},
	[ROLE_NUMBER] = {"invoice number", "invoicenumber", "invoice no", "invoice no.", "invoice #", "invoice",
	                 "rechnungsnummer", "rechnungsnr", "rechnungsnr.", "factuurnummer", "número de factura",
	                 "numero de factura", "numéro de facture", "numero de facture", "numer faktury", "nr faktury",
	                 "num", "no.", "number", "belegnummer", "belegfeld 1", "document number", "doc number", "docnum",
	                 "reference", NULL},
	[ROLE_ISSUE_DATE] = {"invoice date", "invoicedate", "issue date", "issued", "date issued", "rechnungsdatum",
	                     "factuurdatum", "fecha factura", "fecha de factura", "fecha emisión", "date de facture",
	                     "date facture", "data wystawienia", "belegdatum", "invoice/bill date", "bill date",
	                     "date de facturation", "fecha de factura", "invoice date (yyyy-mm-dd)", "docdate",
	                     "posting date (docdate)", NULL},
	[ROLE_DUE_DATE] = {"due date", "duedate", "due", "payment due", "fällig am", "fälligkeit", "fälligkeitsdatum",
	                   "faellig am", "vervaldatum", "fecha de vencimiento", "vencimiento", "date d'échéance",
	                   "échéance", "echeance", "termin płatności", "termin platnosci", "docduedate", NULL},
	[ROLE_STATUS] = {"status", "state", "order status", "financial status", "payment status", "lead status", "stage", "deal stage", "estado", "statut",
	                 "invoice status", "docstatus", "rechnungsstatus",
	                 NULL},
	[ROLE_CUSTOMER_ID] = {"customer id", "customer_id", "customerid", "customer number", "customer no",
	                      "kundennummer", "kundennr", "klantnummer", "debitor", "account number", "cardcode", NULL},
	[ROLE_CURRENCY] = {"currency", "währung", "waehrung", "munt", "moneda", "devise", "waluta",
	                   "currency code", "ccy", "pénznem", "penznem", "valuta tranzactiei",
	               NULL},
	[ROLE_CREATED_AT] = {"created", "created at", "created_at", "created date", "create date", "date created",
	                     "lead created date", "add time",
	                     "erstellt am", "lead created", NULL},
	[ROLE_CREATOR] = {"owner", "lead owner", "contact owner", "deal owner", "owner name", "record owner",
	                  "created by", "creator", "sales rep", "salesperson", "assigned to",
	                  "agent", NULL},
	[ROLE_NAME] = {"name", "lead name", "full name", "contact", "contact name", "company", "title", "lead title", NULL},
	[ROLE_MOBILE] = {"mobile", "phone", "mobile phone", "mobile phone number", "phone number", "telephone", "tel",
	                 "handy", "telefon", NULL},
	[ROLE_SOURCE] = {"source", "lead source", "original source", "channel", "origin", NULL},
	[ROLE_FOLLOWUP] = {"follow up", "follow-up", "followup", "follow up date", "next contact", "next step date",
	                   "next activity date",
	                   NULL},
	[ROLE_ID] = {"id", "transaction id", "transactionid", "transaction reference", "order id", "order number",
	             "lead id", "fitid", "transaktionscode", "transaction code", "record id", NULL},
	/* The other party's account in a bank export (never the exporting
	 * account's own: "Rekening", "Auftragskonto" are not here). */
	[ROLE_ACCOUNT] = {"payer account", "payer iban", "iban", "bban", "counterparty account", "counterparty iban",
	                  "counter account", "other account", "from account", "sender account", "remitter account",
	                  "gegenkonto", "iban gegenkonto", "kontonummer/iban", "iban auftraggeber",
	                  "iban zahlungsbeteiligter", "iban zahlungspflichtiger", "tegenrekening", "tegenrekening iban",
	                  "tegenrekening iban/bban", "rekening tegenpartij", "iban tegenpartij", "cuenta",
	                  "cuenta ordenante", "cuenta origen", "iban ordenante", "compte contrepartie",
	                  "iban émetteur", "iban donneur d'ordre", "conto ordinante", "iban ordinante",
	                  "rachunek nadawcy", "rachunek kontrahenta", "numer rachunku nadawcy", "protiúčet", "protiucet", "číslo účtu protiúčtu", "tilinumero", "motkonto", "mottakers konto",
	                  "partner iban", "rekeningnummer tegenpartij", "account number",
	               NULL},
	/* what an invoice export says is still owed (read only to warn) */
	[ROLE_BALANCE_DUE] = {"open balance", "balance due", "amount due", "invoiceamountdue", "invoice amount due",
	                      "outstanding", "outstanding amount", "amount outstanding", "open amount", "due amount",
	                      "balance", "offener betrag", "offen", "restbetrag", "openstaand", "openstaand bedrag",
	                      "solde", "reste à payer", "montant dû", "importe pendiente", "pendiente",
	                      "pozostało do zapłaty", "do zapłaty", "residuo", NULL},
	/* a payment processor's or e-money account's fee beside the gross
	 * amount (PayPal, Stripe, Revolut, Mollie, Adyen...) */
	[ROLE_FEE] = {"fee", "fees", "fee amount", "transaction fee", "processing fee", "paypal fee", "stripe fee",
	              "gebühr", "gebühren", "entgelt", "frais", "comisión", "comision", "commissione",
	              "prowizja", "opłata", "transactiekosten", "avgift", "gebyr", "poplatek", "díj",
	              NULL},
	/* what reached the account once the fee is taken */
	[ROLE_NET] = {"net", "net amount", "netto", "nettobetrag", "net total", "montant net", "neto", "importe neto",
	              "netto bedrag", "importo netto", "kwota netto", "total amount", "amount after fees", NULL},
	/* what kind of line it is (read by --split to find transfers
	 * between the owner's own accounts) */
	[ROLE_KIND] = {"type", "typ", "transaction type", "transaktionstyp", "transaktionsart", "buchungsart", "umsatzart",
	               "art", "buchungstext", "transactietype", "type de transaction", "tipo", "tipo de transacción",
	               "typ transakcji", "rodzaj transakcji", "tipo operazione", "transaction kind",
	               /* Wise: the id's prefix is the kind (BALANCE-123, CONVERSION-45) */
	               "transferwise id", "wise id", NULL},
	/* the exporting account's own number, on every line (a file of
	 * several accounts names each line's) */
	[ROLE_OWN_ACCOUNT] = {"auftragskonto", "iban auftragskonto", "own account", "account iban", "my account",
	                      "rekening", "iban/bban", "rekeningnummer", "mijn rekening", "numéro de compte",
	                      "cuenta propia", NULL},
};

/* The lower case of a Latin-1 or Latin Extended-A capital (U+00C0 to
 * U+017F: "Összeg", "Értéknap", "Částka"); any other code point as it is. */
static unsigned lower_latin(unsigned cp)
{
	if (cp >= 0xc0 && cp <= 0xde && cp != 0xd7)
		return cp + 0x20;
	if (((cp >= 0x100 && cp <= 0x137) || (cp >= 0x14a && cp <= 0x177)) && !(cp & 1))
		return cp + 1;
	if (((cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17e)) && (cp & 1))
		return cp + 1;
	return cp;
}

/* Lowercase ASCII and Latin letters, trimmed, inner runs of spaces as one
 * (none around '/'), quotes and a trailing ':' dropped, '_' as a space. */
static size_t normalise(const char *h, size_t len, char *out, size_t cap)
{
	size_t n = 0;
	bool space = false;
	for (size_t i = 0; i < len && n + 1 < cap; i++) {
		char c = h[i];
		if (c == '"' || c == '\r' || c == '\n' || (c == '#' && n == 0))
			continue;
		if (c == ' ' || c == '\t' || c == '_') {
			space = n > 0;
			continue;
		}
		/* "Dr / Cr" is "Dr/Cr" */
		if (c == '/' || (n && out[n - 1] == '/'))
			space = false;
		if (space)
			out[n++] = ' ';
		space = false;
		unsigned char b = (unsigned char)c, b2 = i + 1 < len ? (unsigned char)h[i + 1] : 0;
		if (b >= 0xc3 && b <= 0xc5 && (b2 & 0xc0) == 0x80 && n + 2 < cap) {
			unsigned cp = lower_latin(((b & 0x1fu) << 6) | (b2 & 0x3fu));
			out[n++] = (char)(0xc0 | (cp >> 6));
			out[n++] = (char)(0x80 | (cp & 0x3f));
			i++;
			continue;
		}
		if (n + 1 < cap)
			out[n++] = (char)tolower(b);
	}
	while (n && out[n - 1] == ':')
		n--;
	out[n] = '\0';
	return n;
}

static int name_score(detect_role role, const char *h, size_t len);

int detect_name_score(detect_role role, const char *h, size_t len)
{
	int s = name_score(role, h, len);
	/* Pipedrive's "Lead - Owner", "Person - Phone": the object's name,
	 * then the field's */
	for (size_t i = 0; !s && i + 3 < len; i++)
		if (h[i] == ' ' && h[i + 1] == '-' && h[i + 2] == ' ')
			s = name_score(role, h + i + 3, len - i - 3);
	return s;
}

static int name_score(detect_role role, const char *h, size_t len)
{
	char n[128];
	size_t nl = normalise(h, len, n, sizeof n);
	if (!nl)
		return 0;
	int best = 0;
	for (int i = 0; names[role][i]; i++) {
		char s[128];
		size_t sl = normalise(names[role][i], strlen(names[role][i]), s, sizeof s);
		int score = 0;
		if (nl == sl && !memcmp(n, s, sl))
			score = 3000 - i;
		/* "Bedrag (EUR)", "Betrag in EUR", "Amount GBP" */
		else if (nl > sl && !memcmp(n, s, sl) && (n[sl] == ' ' || n[sl] == '(' || n[sl] == '['))
			score = 2000 - i;
		if (score > best)
			best = score;
	}
	return best;
}

int detect_date_order_name(const char *h, size_t len)
{
	static const char *const day_first[] = {
		/* German */
		"datum", "buchungstag", "buchungsdatum", "wertstellung", "valuta", "valutadatum", "belegdatum", "betrag",
		"verwendungszweck", "buchungstext", "auftraggeber", "empfänger", "umsatz", "soll", "haben", "kontostand",
		"auftragskonto", "beguenstigter/zahlungspflichtiger", "zahlungsempfänger", "währung", "waehrung",
		/* Dutch */
		"boekdatum", "datum boeking", "transactiedatum", "rentedatum", "bedrag", "omschrijving", "tegenrekening",
		"naam / omschrijving", "mededelingen", "rekening", "af bij", "munt", "saldo na mutatie",
		/* Spanish, Portuguese, Italian */
		"fecha", "fecha operación", "fecha operacion", "fecha valor", "fecha contable", "importe", "concepto",
		"movimiento", "data lançamento", "data movimento", "data valor", "descrição", "montante", "data operazione",
		"data valuta", "data contabile", "importo", "descrizione", "causale", "dare", "avere",
		/* French */
		"date d'opération", "date opération", "date de l'opération", "date de valeur", "date de comptabilisation",
		"montant", "libellé", "débit", "crédit", "solde", "date operation",
		/* Polish, Czech, Nordic */
		"data operacji", "data księgowania", "kwota", "tytuł", "kontrahent", "datum zaúčtování", "částka", "objem",
		"bokföringsdag", "belopp", "bokføringsdato", "beløb", "beløp", "kirjauspäivä", "määrä", NULL};
	/* No English name says month first: "Posting Date" is Chase's, and
	 * also SAP's and Dynamics' in the UK, which write the day first. */
	char n[128];
	size_t nl = normalise(h, len, n, sizeof n);
	for (int i = 0; nl && day_first[i]; i++) {
		char s[128];
		size_t sl = normalise(day_first[i], strlen(day_first[i]), s, sizeof s);
		/* "Betrag (EUR)", "Bedrag (EUR)" */
		if (nl >= sl && !memcmp(n, s, sl) && (nl == sl || n[sl] == ' ' || n[sl] == '('))
			return 1;
	}
	return 0;
}

bool detect_own_transfer(const char *v, size_t len)
{
	static const char *const kinds[] = {
		/* Stripe, Shopify Payments, Mollie, Adyen, Square */
		"payout", "payouts", "topup", "top up", "top-up", "bank payout",
		/* Revolut, Wise, N26 */
		"exchange", "conversion", "currency conversion", "balance transfer", "space transfer",
		/* PayPal, in its languages */
		"general withdrawal", "withdraw funds to bank account", "bank deposit to pp account",
		"general currency conversion", "transfer to bank", "transfer from bank", "allgemeine abbuchung",
		"bankgutschrift auf paypal-konto", "abbuchung auf bankkonto", "allgemeine währungsumrechnung",
		"retrait général", "virement vers compte bancaire", "algemene opname", "retirada general",
		"prelievo generico", "wypłata ogólna",
		/* banks */
		"acct xfer", "acct_xfer", "account transfer", "internal transfer", "transfer between accounts",
		"own account transfer", "umbuchung", "eigenübertrag", "übertrag eigenes konto", "virement interne",
		"traspaso", "traspaso entre cuentas", "giroconto", "przelew własny", "eigen rekening", NULL};
	char n[128];
	size_t nl = normalise(v, len, n, sizeof n);
	/* Wise's ids: a move between one's own balances (jars) or a
	 * conversion between currencies */
	static const char *const prefixes[] = {"balance-", "conversion-", NULL};
	for (int i = 0; prefixes[i]; i++) {
		size_t pl = strlen(prefixes[i]);
		if (nl > pl && !memcmp(n, prefixes[i], pl) && strspn(n + pl, "0123456789") == nl - pl)
			return true;
	}
	for (int i = 0; kinds[i]; i++) {
		char s[128];
		size_t sl = normalise(kinds[i], strlen(kinds[i]), s, sizeof s);
		if (nl && nl == sl && !memcmp(n, s, sl))
			return true;
	}
	return false;
}

int detect_direction(const char *v, size_t len)
{
	static const char *const out[] = {"af", "d", "dr", "debit", "débit", "debet", "s", "soll", "-", "cargo",
	                                  "o", "out", "uit", "withdrawal", "obciążenie", "wypłata", "ausgang", NULL};
	static const char *const in[] = {"bij", "c", "cr", "credit", "crédit", "h", "haben", "+", "abono", "i",
	                                 "in", "deposit", "uznanie", "wpłata", "eingang", NULL};
	while (len && v[0] == ' ')
		v++, len--;
	while (len && v[len - 1] == ' ')
		len--;
	/* "Dr." / "Cr." (Indian and UK statements) */
	if (len > 1 && v[len - 1] == '.')
		len--;
	for (int i = 0; out[i]; i++)
		if (strlen(out[i]) == len && !strncasecmp(v, out[i], len))
			return -1;
	for (int i = 0; in[i]; i++)
		if (strlen(in[i]) == len && !strncasecmp(v, in[i], len))
			return 1;
	return 0;
}
