// zipf_trace: draws ranks 1..n with probability proportional to 1/rank^s, in O(1) per
// draw with no table (rejection-inversion, Hörmann and Derflinger 1996), so traces over
// 10M keys cost no memory. Shared by the hotkey unit tests and bench/hotkey.
#pragma once

#include <cmath>
#include <cstdint>
#include <random>

namespace shoal::hotkey::testing {

/// Zipf(s) sampler over ranks 1..n; rank 1 is the most popular. Not thread-safe.
class zipf_trace {
public:
  /// n >= 1 ranks, exponent s > 0, deterministic for a seed.
  zipf_trace(uint64_t n, double s, uint64_t seed)
      : n_(static_cast<double>(n)), s_(s), rng_(seed) {
    h_x1_ = h_integral(1.5) - 1.0;
    h_n_ = h_integral(n_ + 0.5);
    cut_ = 2.0 - h_integral_inverse(h_integral(2.5) - h(2.0));
  }

  /// The next rank, 1..n.
  uint64_t next() {
    for (;;) {
      double u = h_n_ + uniform_(rng_) * (h_x1_ - h_n_);
      double x = h_integral_inverse(u);
      double k = std::floor(x + 0.5);
      if (k < 1.0)
        k = 1.0;
      else if (k > n_)
        k = n_;
      if (k - x <= cut_ || u >= h_integral(k + 0.5) - h(k))
        return static_cast<uint64_t>(k);
    }
  }

private:
  static double helper1(double x) {
    return std::abs(x) > 1e-8 ? std::log1p(x) / x
                              : 1.0 - x * (0.5 - x * (1.0 / 3 - 0.25 * x));
  }
  static double helper2(double x) {
    return std::abs(x) > 1e-8 ? std::expm1(x) / x
                              : 1.0 + x * 0.5 * (1.0 + x / 3 * (1.0 + 0.25 * x));
  }
  double h(double x) const { return std::exp(-s_ * std::log(x)); }
  double h_integral(double x) const {
    double log_x = std::log(x);
    return helper2((1.0 - s_) * log_x) * log_x;
  }
  double h_integral_inverse(double x) const {
    double t = x * (1.0 - s_);
    if (t < -1.0)
      t = -1.0;
    return std::exp(helper1(t) * x);
  }

  double n_;
  double s_;
  double h_x1_, h_n_, cut_;
  std::mt19937_64 rng_;
  std::uniform_real_distribution<double> uniform_{0.0, 1.0};
};

} // namespace shoal::hotkey::testing
