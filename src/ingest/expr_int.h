/* expr_int: the parsed form of an expression, shared by the parser
 * (expr.c) and the evaluator (expr_eval.c); not for other modules. */
#ifndef BRISK_EXPR_INT_H
#define BRISK_EXPR_INT_H

#include <regex.h>

#include "core/decimal.h"
#include "ingest/expr.h"

typedef enum { N_NAME, N_NUM, N_TEXT, N_NEG, N_ADD, N_SUB, N_MUL, N_COALESCE, N_ABS, N_CMP, N_MATCH, N_AND, N_OR, N_NOT } expr_node_kind;
enum { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE };

#define EXPR_MAX_NODES 1024
#define EXPR_MAX_DEPTH 48
#define EXPR_MAX_SCALE 18

typedef struct {
	expr_node_kind k;
	int a, b, next; /* children; N_COALESCE chains its arguments by next */
	int op;         /* N_CMP: OP_*; N_MATCH: 1 when negated */
	int name;       /* N_NAME */
	decimal_t num;  /* N_NUM */
	char *text;     /* N_TEXT (owned) */
	size_t tlen;
	regex_t *re;    /* N_MATCH (owned) */
} expr_node;

struct expr {
	expr_node *nodes;
	int nnodes, cap;
	char **names;
	int nnames, namecap;
	int root;
};

#endif
