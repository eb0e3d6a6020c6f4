/*
 * rows.c - the examples' sparse matrix (rows.h): rows appended one example
 * at a time, in arrays grown geometrically, and freed at the end of a load.
 */
#include "rows.h"

int csbot__rows_add(const csbot__alloc *a, csbot__rows *r, const uint32_t *ids,
                    const float *vals, size_t n, uint32_t label) {
    size_t nnz = r->n ? r->rowptr[r->n] : 0;
    if (nnz + n >= UINT32_MAX)
        return CSBOT_ETOOBIG;
    void *p1 = r->col, *p2 = r->val;
    size_t c1 = r->cap_nnz, c2 = r->cap_nnz;
    int rc = csbot__grow(a, &p1, &c1, nnz + n + 1, sizeof(uint32_t));
    r->col = p1;
    if (!rc)
        rc = csbot__grow(a, &p2, &c2, nnz + n + 1, sizeof(float));
    r->val = p2;
    if (rc)
        return rc;
    r->cap_nnz = c1;
    void *p3 = r->rowptr, *p4 = r->label;
    size_t c3 = r->cap_n, c4 = r->cap_n;
    rc = csbot__grow(a, &p3, &c3, r->n + 2, sizeof(uint32_t));
    r->rowptr = p3;
    if (!rc)
        rc = csbot__grow(a, &p4, &c4, r->n + 2, sizeof(uint32_t));
    r->label = p4;
    if (rc)
        return rc;
    r->cap_n = c3;
    if (r->n == 0)
        r->rowptr[0] = 0;
    memcpy(r->col + nnz, ids, n * sizeof *ids);
    memcpy(r->val + nnz, vals, n * sizeof *vals);
    r->label[r->n] = label;
    r->n++;
    r->rowptr[r->n] = (uint32_t)(nnz + n);
    return CSBOT_OK;
}

void csbot__rows_free(const csbot__alloc *a, csbot__rows *r) {
    csbot__free(a, r->rowptr);
    csbot__free(a, r->col);
    csbot__free(a, r->val);
    csbot__free(a, r->label);
    memset(r, 0, sizeof *r);
}
