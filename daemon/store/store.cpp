// SPDX-License-Identifier: GPL-2.0-or-later
//
// What both stores check the same way.
#include "store/store.hpp"

namespace ilpd::store
{

void check_key(const std::string &key)
{
	if (key.empty())
		throw StoreError(StoreError::Kind::Invalid, "an empty key");
	if (key.size() > kMaxKey)
		throw StoreError(StoreError::Kind::Invalid,
				 "a key of " + std::to_string(key.size()) + " bytes (at most " +
				     std::to_string(kMaxKey) + ")");
}

void check_value(const std::string &value)
{
	if (value.size() > kMaxValue)
		throw StoreError(StoreError::Kind::Invalid,
				 "a value of " + std::to_string(value.size()) + " bytes (at most " +
				     std::to_string(kMaxValue) + ")");
}

std::string prefix_end(const std::string &prefix)
{
	std::string end = prefix;
	while (!end.empty()) {
		auto &c = reinterpret_cast<unsigned char &>(end.back());
		if (c != 0xff) {
			c++;
			return end;
		}
		end.pop_back();
	}
	return end;
}

} // namespace ilpd::store
