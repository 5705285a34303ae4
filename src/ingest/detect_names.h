/* detect_names: what a column is, by its header name in the languages of
 * common bank and accounting exports (Buchungstag, Omschrijving, Importe,
 * Libellé, Kwota...). A role is what the column holds; detect.c turns
 * roles into an entity's fields. */
#ifndef BRISK_DETECT_NAMES_H
#define BRISK_DETECT_NAMES_H

#include <stdbool.h>
#include <stddef.h>

typedef enum {
	ROLE_DATE, ROLE_AMOUNT, ROLE_DEBIT, ROLE_CREDIT, ROLE_INDICATOR, ROLE_PARTY, ROLE_TEXT, ROLE_CATEGORY,
	ROLE_NUMBER, ROLE_ISSUE_DATE, ROLE_DUE_DATE, ROLE_STATUS, ROLE_CUSTOMER_ID, ROLE_CURRENCY, ROLE_CREATED_AT,
	ROLE_CREATOR, ROLE_NAME, ROLE_MOBILE, ROLE_SOURCE, ROLE_FOLLOWUP, ROLE_ID, ROLE_ACCOUNT, ROLE_BALANCE_DUE,
	ROLE_FEE, ROLE_NET, ROLE_KIND, ROLE_OWN_ACCOUNT,
	ROLE__COUNT
} detect_role;

/* How well header h (len bytes, as in the file) names role: 0 not at all;
 * higher is better (an exact name beats a name followed by a unit such as
 * "Bedrag (EUR)"; earlier names of the list beat later ones). */
int detect_name_score(detect_role role, const char *h, size_t len);

/* True if v, a value of a ROLE_KIND column (a line's type), says the
 * line moves money between the owner's own accounts: a processor's
 * payout or withdrawal to the bank, a bank deposit to it, a top-up, a
 * currency exchange between one's own balances, a bank's rebooking
 * (Umbuchung, ACCT_XFER). A bare "Transfer" is not one: banks and
 * Revolut call every transfer to anyone that. */
bool detect_own_transfer(const char *v, size_t len);

/* What header h says of the file's date order: 1 a name in a language
 * of countries that write the day first (Buchungstag, Fecha, Montant,
 * Omschrijving...), 0 nothing (English names, even a US bank's Posting
 * Date, are used on both sides of the Atlantic). */
int detect_date_order_name(const char *h, size_t len);

/* What an indicator column's value v says: -1 money out (Af, D, DR,
 * Debit, S for Soll, Cargo...), 1 money in (Bij, C, CR, Credit, H for
 * Haben, Abono...), 0 unknown. */
int detect_direction(const char *v, size_t len);

#endif
