/*
 * performance_lt.cu - one cuBLASLt GEMM with its epilogue, built once in
 * setup (descriptors + heuristic algo) and enqueued many times.
 */
#include "performance_cuda.h"

#include <string.h>

/* Set one matmul-descriptor attribute. */
static aisp_err perf_desc_set(cublasLtMatmulDesc_t d, cublasLtMatmulDescAttributes_t a,
			      const void *v, size_t size)
{
	return perf_blas(cublasLtMatmulDescSetAttribute(d, a, v, size));
}

/* Rows and columns of op(X) stored as rows x cols before the op. */
static aisp_err perf_layout_make(cublasLtMatrixLayout_t *l, cudaDataType_t t,
				 cublasOperation_t op, int rows_op, int cols_op, int ld)
{
	uint64_t r = op == CUBLAS_OP_N ? rows_op : cols_op;
	uint64_t c = op == CUBLAS_OP_N ? cols_op : rows_op;

	return perf_blas(cublasLtMatrixLayoutCreate(l, t, r, c, ld));
}

/* The epilogue attributes: kind, bias pointer, ReLU mask pointer and ld. */
static aisp_err perf_gemm_epilogue(struct perf_gemm *g, const struct perf_gemm_cfg *c)
{
	aisp_err rc;

	rc = perf_desc_set(g->desc, CUBLASLT_MATMUL_DESC_EPILOGUE, &c->epilogue,
			   sizeof(c->epilogue));
	if (rc == AISP_OK && c->bias)
		rc = perf_desc_set(g->desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &c->bias,
				   sizeof(c->bias));
	if (rc == AISP_OK && c->aux) {
		int64_t ld = c->aux_ld;
		rc = perf_desc_set(g->desc, CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_POINTER,
				   &c->aux, sizeof(c->aux));
		if (rc == AISP_OK)
			rc = perf_desc_set(g->desc, CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_LD, &ld,
					   sizeof(ld));
	}
	return rc;
}

aisp_err perf_gemm_init(struct perf_gemm *g, cublasLtHandle_t lt,
			const struct perf_gemm_cfg *c, size_t workspace)
{
	cublasLtMatmulPreference_t pref = NULL;
	cublasLtMatmulHeuristicResult_t res;
	int found = 0;
	aisp_err rc;

	memset(g, 0, sizeof(*g));
	rc = perf_blas(cublasLtMatmulDescCreate(&g->desc, CUBLAS_COMPUTE_32F, CUDA_R_32F));
	if (rc == AISP_OK)
		rc = perf_desc_set(g->desc, CUBLASLT_MATMUL_DESC_TRANSA, &c->opa, sizeof(c->opa));
	if (rc == AISP_OK)
		rc = perf_desc_set(g->desc, CUBLASLT_MATMUL_DESC_TRANSB, &c->opb, sizeof(c->opb));
	if (rc == AISP_OK)
		rc = perf_gemm_epilogue(g, c);
	if (rc == AISP_OK)
		rc = perf_layout_make(&g->la, c->ta, c->opa, c->m, c->k, c->lda);
	if (rc == AISP_OK)
		rc = perf_layout_make(&g->lb, c->tb, c->opb, c->k, c->n, c->ldb);
	if (rc == AISP_OK)
		rc = perf_layout_make(&g->lc, c->tcd, CUBLAS_OP_N, c->m, c->n, c->ldc);
	if (rc == AISP_OK)
		rc = perf_blas(cublasLtMatmulPreferenceCreate(&pref));
	if (rc == AISP_OK)
		rc = perf_blas(cublasLtMatmulPreferenceSetAttribute(
			pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &workspace,
			sizeof(workspace)));
	if (rc == AISP_OK && c->align_ab) {
		rc = perf_blas(cublasLtMatmulPreferenceSetAttribute(
			pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, &c->align_ab,
			sizeof(c->align_ab)));
		if (rc == AISP_OK)
			rc = perf_blas(cublasLtMatmulPreferenceSetAttribute(
				pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, &c->align_ab,
				sizeof(c->align_ab)));
	}
	if (rc == AISP_OK)
		rc = perf_blas(cublasLtMatmulAlgoGetHeuristic(lt, g->desc, g->la, g->lb, g->lc,
							      g->lc, pref, 1, &res, &found));
	if (rc == AISP_OK && found < 1)
		rc = AISP_EDEVICE;
	if (rc == AISP_OK)
		g->algo = res.algo;
	if (pref)
		cublasLtMatmulPreferenceDestroy(pref);
	if (rc != AISP_OK)
		perf_gemm_destroy(g);
	return rc;
}

aisp_err perf_gemm_run(const struct perf_gemm *g, cublasLtHandle_t lt, const void *a,
		       const void *b, const void *c, void *d, float alpha, float beta,
		       void *workspace, size_t wsize, cudaStream_t s)
{
	return perf_blas(cublasLtMatmul(lt, g->desc, &alpha, a, g->la, b, g->lb, &beta, c,
					g->lc, d, g->lc, &g->algo, workspace, wsize, s));
}

aisp_err perf_gemm_candidates(const struct perf_gemm *g, cublasLtHandle_t lt, size_t workspace,
			      cublasLtMatmulAlgo_t *algos, int max, int *found)
{
	cublasLtMatmulHeuristicResult_t res[16];
	cublasLtMatmulPreference_t pref = NULL;
	aisp_err rc;

	*found = 0;
	max = max < 16 ? max : 16;
	rc = perf_blas(cublasLtMatmulPreferenceCreate(&pref));
	if (rc == AISP_OK)
		rc = perf_blas(cublasLtMatmulPreferenceSetAttribute(
			pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &workspace,
			sizeof(workspace)));
	if (rc == AISP_OK)
		rc = perf_blas(cublasLtMatmulAlgoGetHeuristic(lt, g->desc, g->la, g->lb, g->lc,
							      g->lc, pref, max, res, found));
	for (int i = 0; rc == AISP_OK && i < *found; i++)
		algos[i] = res[i].algo;
	if (pref)
		cublasLtMatmulPreferenceDestroy(pref);
	return rc;
}

void perf_gemm_destroy(struct perf_gemm *g)
{
	if (g->lc)
		cublasLtMatrixLayoutDestroy(g->lc);
	if (g->lb)
		cublasLtMatrixLayoutDestroy(g->lb);
	if (g->la)
		cublasLtMatrixLayoutDestroy(g->la);
	if (g->desc)
		cublasLtMatmulDescDestroy(g->desc);
	memset(g, 0, sizeof(*g));
}
