// SPDX-License-Identifier: LGPL-2.1-or-later
#include "ilp/family.hpp"

#include <fstream>
#include <stdexcept>

#include <linux/ilp.h>

namespace ilp
{

std::optional<int> loaded_af(const std::filesystem::path &sysfs_param)
{
	std::ifstream in(sysfs_param);
	if (!in)
		return std::nullopt;
	int af;
	if (!(in >> af) || af <= 0)
		throw std::runtime_error(sysfs_param.string() +
					 " does not hold an address family number");
	return af;
}

int af_ilp()
{
	return loaded_af(ILP_AF_SYSFS_PATH).value_or(ILP_AF_DEFAULT);
}

} // namespace ilp
