#ifndef TANDEM_ERRS_T_H
#define TANDEM_ERRS_T_H

#include <stddef.h>

/* One validation message tied to the JSON path of the field it concerns. */
struct errs_item {
	char *path;	/* e.g. "$.pools[0].members[1].port"; "$" for the whole document */
	char *message;
};

/* A growable list of validation messages; parsers collect, callers decide. */
struct errs {
	struct errs_item *items;
	size_t count;
	size_t cap;
};

#endif
