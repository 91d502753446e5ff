// The GEMM problem every fused-layer pass reduces to, and how the layer's passes map onto it.
// Shared by the CPU kernels and the CUDA kernels, so both compute the same three GEMMs.
#pragma once

#include <cstdint>

#include "pyaae/activation.h"
#include "pyaae/fused_linear.h"

namespace pyaae {

// A [m, k] is read through strides; when a_grad_activation is not Identity, each element is
// multiplied by activation_grad_from_output(a_y[same offset]) as it is packed, which fuses the
// activation's backward into the GEMM's input. B [k, n] is read through strides. C [m, n] is
// row-major with leading dimension ldc; C = act(A B + bias[col]) where bias may be null.
struct GemmProblem {
  int64_t m = 0, n = 0, k = 0;
  const float* a = nullptr;
  const float* a_y = nullptr;
  int64_t a_row_stride = 0, a_col_stride = 0;
  Activation a_grad_activation = Activation::Identity;
  const float* b = nullptr;
  int64_t b_row_stride = 0, b_col_stride = 0;
  float* c = nullptr;
  int64_t ldc = 0;
  const float* bias = nullptr;
  Activation activation = Activation::Identity;
  float negative_slope = 0.0f;
  // When not null, row_sums[i] = sum over k of A[i, k] (after the fused gradient), accumulated
  // in double while A is packed: the bias gradient comes out of the same pass as the weight's.
  float* row_sums = nullptr;
  // CUDA only: multiply on TF32 tensor cores. The CPU kernels always multiply in float32.
  bool allow_tf32 = false;
};

// The backward pass of a layer with dropout, once G = dL/d(pre-activation) is formed in
// g.dropout_scratch (by the mask and the activation): the same pass on G, with neither.
inline LinearBackwardArgs after_dropout_grad(const LinearBackwardArgs& g) {
  LinearBackwardArgs formed = g;
  formed.grad_y = g.dropout_scratch;
  formed.y = nullptr;
  formed.activation = Activation::Identity;
  formed.dropout = Dropout{};
  formed.dropout_scratch = nullptr;
  return formed;
}

// y = act(x W^T + b): A = x, B = W^T.
inline GemmProblem forward_problem(const LinearForwardArgs& f) {
  GemmProblem p;
  p.m = f.batch;
  p.n = f.out_features;
  p.k = f.in_features;
  p.a = f.x;
  p.a_row_stride = f.in_features;
  p.a_col_stride = 1;
  p.b = f.weight;
  p.b_row_stride = 1;
  p.b_col_stride = f.in_features;
  p.c = f.y;
  p.ldc = f.out_features;
  p.bias = f.bias;
  p.activation = f.activation;
  p.negative_slope = f.negative_slope;
  p.allow_tf32 = f.allow_tf32;
  return p;
}

// grad_x = G W with G = grad_y * act'(y) formed while A is read.
inline GemmProblem grad_x_problem(const LinearBackwardArgs& g) {
  GemmProblem p;
  p.m = g.batch;
  p.n = g.in_features;
  p.k = g.out_features;
  p.a = g.grad_y;
  p.a_y = g.y;
  p.a_row_stride = g.out_features;
  p.a_col_stride = 1;
  p.a_grad_activation = g.activation;
  p.b = g.weight;
  p.b_row_stride = g.in_features;
  p.b_col_stride = 1;
  p.c = g.grad_x;
  p.ldc = g.in_features;
  p.negative_slope = g.negative_slope;
  p.allow_tf32 = g.allow_tf32;
  return p;
}

// grad_weight = G^T x; grad_bias = the row sums of G^T, taken in the same pass when with_bias.
inline GemmProblem grad_weight_problem(const LinearBackwardArgs& g, bool with_bias) {
  GemmProblem p;
  p.m = g.out_features;
  p.n = g.in_features;
  p.k = g.batch;
  p.a = g.grad_y;
  p.a_y = g.y;
  p.a_row_stride = 1;
  p.a_col_stride = g.out_features;
  p.a_grad_activation = g.activation;
  p.b = g.x;
  p.b_row_stride = g.in_features;
  p.b_col_stride = 1;
  p.c = g.grad_weight;
  p.ldc = g.in_features;
  p.negative_slope = g.negative_slope;
  p.row_sums = with_bias ? g.grad_bias : nullptr;
  p.allow_tf32 = g.allow_tf32;
  return p;
}

}  // namespace pyaae
