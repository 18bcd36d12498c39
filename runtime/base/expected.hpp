// expected: a value or an error, shoal's one result type (C++17 has no std::expected).
//
// Every layer reports failures as values: the decoder (`decode_result<T>`), the
// adapters (`mysql_expected<T>`, `redis_expected<T>`) and the token logic
// (`token::result<T, E>`) are all this template with their own error type.
//
//   expected<int, std::string> parse(std::string_view s) {
//     if (s.empty()) return fail(std::string{"empty"});
//     return 42;
//   }
//   auto r = parse(text);
//   if (!r) log(r.error()); else use(*r);
//
// A value or an error converts implicitly when their types differ; `fail(e)` names
// the error side explicitly and is needed only when T and E are the same type.
// Header-only; linked by every library through the `shoal_base` target.
#pragma once

#include <type_traits>
#include <utility>
#include <variant>

namespace shoal {

/// Marks an error so that `expected<T, E>` can be built from it without ambiguity,
/// even when T and E are the same type.
template <class E> struct failure { E error; };

/// `return fail(error);` from a function returning `expected<T, E>`.
template <class E> failure<std::decay_t<E>> fail(E&& error) {
  return {std::forward<E>(error)};
}

/// Exactly one of a value of type T or an error of type E.
template <class T, class E> class expected {
public:
  using value_type = T;
  using error_type = E;

  expected(T value) : state_(std::in_place_index<0>, std::move(value)) {}
  template <class U = E, class = std::enable_if_t<!std::is_same_v<std::decay_t<U>, T>>>
  expected(E error) : state_(std::in_place_index<1>, std::move(error)) {}
  template <class F, class = std::enable_if_t<std::is_constructible_v<E, F>>>
  expected(failure<F> f) : state_(std::in_place_index<1>, E(std::move(f.error))) {}

  /// True when this holds a value.
  bool has_value() const noexcept { return state_.index() == 0; }
  bool ok() const noexcept { return has_value(); }
  explicit operator bool() const noexcept { return has_value(); }

  /// The value; throws std::bad_variant_access when this holds an error.
  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  /// The error; throws std::bad_variant_access when this holds a value.
  E& error() & { return std::get<1>(state_); }
  const E& error() const& { return std::get<1>(state_); }
  E&& error() && { return std::get<1>(std::move(state_)); }

private:
  std::variant<T, E> state_;
};

} // namespace shoal
