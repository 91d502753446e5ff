// The portable dropout factors: one Philox block per four columns (pyaae/dropout.h).
#include "dropout_mask.h"

namespace pyaae::cpu {

void dropout_row_generic(const Dropout& d, int64_t row, int64_t c0, int64_t c1, float* factors) {
  const float scale = dropout_scale(d);
  PhiloxWords words{};
  for (int64_t col = c0; col < c1; ++col) {
    if (col == c0 || (col & 3) == 0) words = dropout_words(d, row, col);
    factors[col - c0] = dropout_factor(words.w[col & 3], d.p, scale);
  }
}

}  // namespace pyaae::cpu
