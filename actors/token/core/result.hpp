// result: a value or an error, for the token service's pure logic.
//
// The token logic reports failures as values (a parse error naming its JSON path,
// a classified upstream error) rather than throwing. `result<T, E>` holds exactly one
// of the two; callers test it with `ok()` and then read `value()` or `error()`.

#pragma once

#include <utility>
#include <variant>

namespace shoal::token {

/// Wraps an error so that `result<T, E>` can be built from it without ambiguity,
/// even when T and E are the same type.
template <class E> struct failure { E error; };

template <class E> failure<std::decay_t<E>> fail(E&& error) {
  return {std::forward<E>(error)};
}

/// Exactly one of a value of type T or an error of type E.
template <class T, class E> class result {
public:
  result(T value) : data_(std::in_place_index<0>, std::move(value)) {}
  result(failure<E> f) : data_(std::in_place_index<1>, std::move(f.error)) {}

  /// True when this holds a value.
  bool ok() const { return data_.index() == 0; }
  explicit operator bool() const { return ok(); }

  /// The value; only valid when ok().
  T& value() { return std::get<0>(data_); }
  const T& value() const { return std::get<0>(data_); }

  /// The error; only valid when !ok().
  E& error() { return std::get<1>(data_); }
  const E& error() const { return std::get<1>(data_); }

private:
  std::variant<T, E> data_;
};

} // namespace shoal::token
