// overload: a visitor made of lambdas, for std::visit over a variant.
//
//   std::visit(overload{[](int v) { ... }, [](const std::string& s) { ... }}, value);
#pragma once

namespace shoal {

template <class... Ts> struct overload : Ts... { using Ts::operator()...; };
template <class... Ts> overload(Ts...) -> overload<Ts...>;

} // namespace shoal
