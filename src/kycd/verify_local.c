/*
 * verify_local.c: the local verification provider, which needs nothing
 * outside this machine.
 *
 * Each stored document is decoded in a sandboxed child (decoder.c), which
 * reports measurements; the rules are applied here:
 *   - the document-type rules (a back is required for NIN and
 *     DRIVERS_LICENSE; ignored for PASSPORT; optional for VOTERS_CARD);
 *   - every stored document decodes fully (UNREADABLE);
 *   - images are at least min_width x min_height in either orientation,
 *     from pixel dimensions only, whatever density metadata claims
 *     (LOW_RESOLUTION);
 *   - images are not blank: luma standard deviation >= blank_stddev
 *     (BLANK_IMAGE).
 * PDFs have no pixel size; they pass on structure (qpdf, no recovery).
 */
#include "kycd.h"

#include "cc_doc.h"

#include <apr_strings.h>

#include <string.h>

static void reject(cc_verdict_t *v, const char *reason, const char *msg)
{
    v->kyc_status = "REJECTED";
    v->reason = reason;
    v->message = msg;
}

void cc_verdict_unreadable(cc_verdict_t *v, apr_pool_t *p, const char *side)
{
    reject(v, "UNREADABLE",
           apr_psprintf(p, "The %s of the identity document could not be "
                        "decoded", side));
}

void cc_verdict_low_resolution(cc_verdict_t *v, apr_pool_t *p,
                               const char *side, unsigned w, unsigned h,
                               unsigned min_w, unsigned min_h)
{
    reject(v, "LOW_RESOLUTION",
           apr_psprintf(p, "The %s image is %ux%u pixels; at least %ux%u "
                        "are required", side, w, h, min_w, min_h));
}

/* Decodes one side and applies the image rules to it. CC_VERIFY_DONE
 * with *v set on a rejection, CC_VERIFY_RETRY with *why on our failure,
 * or -1 when the side passes. */
static int judge_side(const cc_kycd_cfg_t *cfg, const cc_doc_row_t *doc,
                      const char *side, cc_verdict_t *v, apr_pool_t *p,
                      const char **why)
{
    int is_image = strcmp(doc->mime_type, "application/pdf") != 0;
    cc_decoded_t c;

    cc_decoder_run(cfg, doc, &c);
    if (c.transient) {
        *why = apr_pstrdup(p, c.why);
        return CC_VERIFY_RETRY;
    }
    if (!c.ok) {
        cc_kycd_log(CC_LOG_INFO, "%s document unreadable: %s", side, c.why);
        cc_verdict_unreadable(v, p, side);
        return CC_VERIFY_DONE;
    }
    if (is_image
        && !cc_doc_big_enough(c.w, c.h, cfg->min_width, cfg->min_height)) {
        cc_verdict_low_resolution(v, p, side, c.w, c.h, cfg->min_width,
                                  cfg->min_height);
        return CC_VERIFY_DONE;
    }
    if (is_image && c.stddev < cfg->blank_stddev) {
        reject(v, "BLANK_IMAGE",
               apr_psprintf(p, "The %s image is blank or uniform", side));
        return CC_VERIFY_DONE;
    }
    return -1;
}

int cc_verify_local(cc_kycd_t *d, const cc_docs_t *docs, cc_verdict_t *v,
                    apr_pool_t *p, const char **why)
{
    const char *type = docs->id_document_type;
    int back_required = !strcmp(type, "NIN")
                        || !strcmp(type, "DRIVERS_LICENSE");
    int back_ignored = !strcmp(type, "PASSPORT");
    const cc_doc_row_t *front = NULL, *back = NULL;
    int i, rc;

    for (i = 0; i < docs->ndocs; i++) {
        if (!strcmp(docs->docs[i].side, "front")) {
            front = &docs->docs[i];
        }
        else if (!strcmp(docs->docs[i].side, "back")) {
            back = &docs->docs[i];
        }
    }
    if (front == NULL) {
        reject(v, "DOCUMENT_FETCH_FAILED",
               "The front of the identity document is not available");
        return CC_VERIFY_DONE;
    }
    if (back_required && back == NULL) {
        reject(v, "MISSING_BACK",
               apr_psprintf(p, "The back of the %s is required but missing",
                            type));
        return CC_VERIFY_DONE;
    }
    rc = judge_side(d->cfg, front, "front", v, p, why);
    if (rc < 0 && back != NULL && !back_ignored) {
        rc = judge_side(d->cfg, back, "back", v, p, why);
    }
    if (rc >= 0) {
        return rc;
    }
    v->kyc_status = "APPROVED";
    v->reason = NULL;
    v->message = NULL;
    return CC_VERIFY_DONE;
}
