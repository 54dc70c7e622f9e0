// A2 kernels: cache-blocked matmul and fused (FlashAttention-style) attention forward.
// Build: g++ -O2 -fopenmp -shared -fPIC -o kernels.so kernels.cpp
// All arrays are contiguous, row-major float32. Functions return 0 on success.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace {

constexpr int kTile = 64;         // matmul tile edge: three 64x64 float tiles fit in L2
constexpr int kBlockQ = 32;       // query rows per attention block (one OpenMP task)
constexpr int kBlockK = 64;       // keys per attention block: K and V blocks stay in L1/L2

// Dot product of two contiguous vectors. `omp simd reduction` lets the compiler reorder
// the sum into vector lanes (plain -O2 may not reassociate a float reduction).
inline float dot(const float* a, const float* b, int n) {
  float s = 0.0f;
#pragma omp simd reduction(+ : s)
  for (int k = 0; k < n; ++k) s += a[k] * b[k];
  return s;
}

}  // namespace

extern "C" {

// C[M,N] = A[M,K] @ B[K,N].
int matmul(const float* A, const float* B, float* C, int M, int K, int N) {
  if (M < 0 || K < 0 || N < 0) return 1;
  std::fill(C, C + static_cast<long>(M) * N, 0.0f);
#pragma omp parallel for schedule(static)
  for (int i0 = 0; i0 < M; i0 += kTile) {
    const int i1 = std::min(i0 + kTile, M);
    for (int k0 = 0; k0 < K; k0 += kTile) {
      const int k1 = std::min(k0 + kTile, K);
      for (int j0 = 0; j0 < N; j0 += kTile) {
        const int j1 = std::min(j0 + kTile, N);
        for (int i = i0; i < i1; ++i) {
          float* c = C + static_cast<long>(i) * N;
          for (int k = k0; k < k1; ++k) {
            const float a = A[static_cast<long>(i) * K + k];
            const float* b = B + static_cast<long>(k) * N;
            // i-k-j order: the inner loop walks rows of B and C contiguously.
#pragma omp simd
            for (int j = j0; j < j1; ++j) c[j] += a * b[j];
          }
        }
      }
    }
  }
  return 0;
}

// O[bh,i,:] = softmax(scale * Q[bh,i,:] K[bh]^T) V[bh] and L[bh,i] = logsumexp of that row,
// for bh < BH. Q, O: [BH, Nq, d]; K, V: [BH, Nk, d]; L: [BH, Nq].
// causal != 0 masks key j for query i when j > i (top-left aligned, like torch.tril).
// Never builds the Nq x Nk score matrix: each block of query rows streams over key blocks
// with an online softmax (running max m, running sum l, rescaled accumulator).
int attention_forward(const float* Q, const float* K, const float* V, float* O, float* L,
                      int BH, int Nq, int Nk, int d, float scale, int causal) {
  if (BH < 0 || Nq < 0 || Nk <= 0 || d <= 0) return 1;
  const int q_blocks = (Nq + kBlockQ - 1) / kBlockQ;
  const float neg_inf = -std::numeric_limits<float>::infinity();
#pragma omp parallel
  {
    std::vector<float> acc(static_cast<size_t>(kBlockQ) * d);
    std::vector<float> m(kBlockQ), l(kBlockQ);
    float s[kBlockK];
#pragma omp for schedule(dynamic)
    for (int task = 0; task < BH * q_blocks; ++task) {
      const int bh = task / q_blocks;
      const int i0 = (task % q_blocks) * kBlockQ;
      const int i1 = std::min(i0 + kBlockQ, Nq);
      const float* q = Q + static_cast<long>(bh) * Nq * d;
      const float* k = K + static_cast<long>(bh) * Nk * d;
      const float* v = V + static_cast<long>(bh) * Nk * d;
      std::fill(acc.begin(), acc.end(), 0.0f);
      std::fill(m.begin(), m.end(), neg_inf);
      std::fill(l.begin(), l.end(), 0.0f);
      // Causal: keys past the block's last row are masked for every row of the block.
      const int k_end = causal ? std::min(Nk, i1) : Nk;
      for (int j0 = 0; j0 < k_end; j0 += kBlockK) {
        const int j1 = std::min(j0 + kBlockK, k_end);
        for (int i = i0; i < i1; ++i) {
          const float* qi = q + static_cast<long>(i) * d;
          const int jj1 = causal ? std::min(j1, i + 1) : j1;
          if (jj1 <= j0) continue;  // the whole key block is masked for this row
          float block_max = neg_inf;
          for (int j = j0; j < jj1; ++j) {
            s[j - j0] = scale * dot(qi, k + static_cast<long>(j) * d, d);
            block_max = std::max(block_max, s[j - j0]);
          }
          const int r = i - i0;
          const float m_new = std::max(m[r], block_max);
          const float correction = std::exp(m[r] - m_new);  // exp(-inf) = 0 on the first block
          float* a = acc.data() + static_cast<long>(r) * d;
#pragma omp simd
          for (int c = 0; c < d; ++c) a[c] *= correction;
          float row_sum = 0.0f;
          for (int j = j0; j < jj1; ++j) {
            const float p = std::exp(s[j - j0] - m_new);
            row_sum += p;
            const float* vj = v + static_cast<long>(j) * d;
#pragma omp simd
            for (int c = 0; c < d; ++c) a[c] += p * vj[c];
          }
          l[r] = l[r] * correction + row_sum;
          m[r] = m_new;
        }
      }
      for (int i = i0; i < i1; ++i) {
        const int r = i - i0;
        const float inv = 1.0f / l[r];
        float* o = O + (static_cast<long>(bh) * Nq + i) * d;
        const float* a = acc.data() + static_cast<long>(r) * d;
        for (int c = 0; c < d; ++c) o[c] = a[c] * inv;
        L[static_cast<long>(bh) * Nq + i] = m[r] + std::log(l[r]);
      }
    }
  }
  return 0;
}

}  // extern "C"
