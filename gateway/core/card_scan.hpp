#pragma once
// Refuses card data anywhere in a request: merchgate never sees a PAN or CVC (CONTRACT §3).
#include <boost/json/value.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace mg::core {

// True when `text` holds a run of 13-19 digits (spaces or dashes allowed between digit groups)
// that passes the Luhn check: what a primary account number looks like.
bool looks_like_card_number(std::string_view text) noexcept;

// Walks a JSON document and returns the path (`lines[0].sku`, `metadata.note`) of the first
// string or integer that looks like a card number, or of a key that names card data
// (`card_number`, `cvc`, `cvv`, `pan`, `card`), or nullopt when the document is clean.
std::optional<std::string> find_card_data(const boost::json::value& document);

}  // namespace mg::core
