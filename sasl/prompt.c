/* satoken SASL plugin, client side: where the account, the authorization
 * identity and the token come from.
 *
 * An application answers either through callbacks (SASL_CB_AUTHNAME,
 * SASL_CB_USER, SASL_CB_PASS) or, when it registered none, through
 * SASL_INTERACT prompts that it fills in and hands back on the next
 * step (libldap's clients, ldapwhoami among them, work this way).  Every
 * answer is borrowed from the application. */
#include <string.h>

#include "plugin.h"

static const sasl_interact_t *
find_answer(const sasl_interact_t *answers, unsigned long id)
{
	const sasl_interact_t *a;

	for (a = answers; a != NULL && a->id != SASL_CB_LIST_END; a++)
		if (a->id == id && a->result != NULL)
			return a;
	return NULL;
}

int
prompt_get_simple(const sasl_utils_t *utils, const sasl_interact_t *answers,
    unsigned long id, const char **ret, unsigned *ret_len)
{
	const sasl_interact_t *a;
	sasl_getsimple_t *cb = NULL;
	const char *v = NULL;
	unsigned len = 0;
	void *ctx = NULL;
	int r;

	if ((a = find_answer(answers, id)) != NULL) {
		*ret = a->result;
		*ret_len = a->len > 0 ? (unsigned)strnlen(a->result, a->len) :
		    (unsigned)strlen(a->result);
		return SASL_OK;
	}
	r = utils->getcallback(utils->conn, id, (sasl_callback_ft *)&cb, &ctx);
	if (r != SASL_OK)
		return r;	/* SASL_INTERACT: ask with a prompt */
	if (cb == NULL)
		return SASL_INTERACT;
	if ((r = cb(ctx, (int)id, &v, &len)) != SASL_OK)
		return r;
	*ret = v != NULL ? v : "";
	*ret_len = v == NULL ? 0 : len > 0 ? (unsigned)strnlen(v, len) :
	    (unsigned)strlen(v);
	return SASL_OK;
}

int
prompt_get_secret(const sasl_utils_t *utils, const sasl_interact_t *answers,
    const char **ret, size_t *ret_len)
{
	const sasl_interact_t *a;
	sasl_getsecret_t *cb = NULL;
	sasl_secret_t *secret = NULL;
	void *ctx = NULL;
	int r;

	if ((a = find_answer(answers, SASL_CB_PASS)) != NULL) {
		/* some applications fill the text and leave len at 0 */
		*ret = a->result;
		*ret_len = a->len > 0 ? a->len : strlen(a->result);
		return SASL_OK;
	}
	r = utils->getcallback(utils->conn, SASL_CB_PASS,
	    (sasl_callback_ft *)&cb, &ctx);
	if (r != SASL_OK)
		return r;
	if (cb == NULL)
		return SASL_INTERACT;
	if ((r = cb(utils->conn, ctx, SASL_CB_PASS, &secret)) != SASL_OK)
		return r;
	if (secret == NULL)
		return SASL_BADPARAM;
	*ret = (const char *)secret->data;
	*ret_len = secret->len;
	return SASL_OK;
}

static const char *
prompt_text(unsigned long id)
{
	switch (id) {
	case SASL_CB_AUTHNAME:	return "Service account: ";
	case SASL_CB_USER:	return "Authorization identity (empty for the account): ";
	case SASL_CB_PASS:	return "Token: ";
	default:		return "";
	}
}

int
prompt_make(const sasl_utils_t *utils, const unsigned long *ids, size_t n,
    sasl_interact_t **ret)
{
	sasl_interact_t *p;
	size_t i;

	if ((p = utils->malloc((unsigned)((n + 1) * sizeof(*p)))) == NULL)
		return SASL_NOMEM;
	memset(p, 0, (n + 1) * sizeof(*p));
	for (i = 0; i < n; i++) {
		p[i].id = ids[i];
		p[i].prompt = prompt_text(ids[i]);
		p[i].defresult = NULL;
	}
	p[n].id = SASL_CB_LIST_END;
	*ret = p;
	return SASL_OK;
}

void
prompt_free(const sasl_utils_t *utils, sasl_interact_t *p)
{
	if (p != NULL)
		utils->free(p);
}
