// SPDX-License-Identifier: GPL-2.0-or-later
#include "environment/module_loader.hpp"

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <sstream>
#include <system_error>

#include <dlfcn.h>
#include <sys/stat.h>

namespace fs = std::filesystem;

namespace ilpd
{

void Module::Closer::operator()(void *handle) const noexcept
{
	if (handle)
		::dlclose(handle);
}

Module::Module(Handle handle, std::uint32_t abi, const ilp_service &desc, const ilp_service_v1 *v1,
	       fs::path path)
    : handle_(std::move(handle)), abi_(abi), desc_(desc), v1_(v1), path_(std::move(path))
{
}

void ModuleLoader::Taken::add(const Module &m)
{
	ids[m.id()] = m.last_id();
	names.insert(m.name());
}

std::optional<std::uint32_t> ModuleLoader::Taken::overlap(std::uint32_t first,
							  std::uint32_t last) const
{
	// The last range starting at or before @last is the only one that
	// can reach into @first..@last from below; the ranges do not overlap.
	auto it = ids.upper_bound(last);
	if (it == ids.begin())
		return std::nullopt;
	--it;
	if (it->second >= first)
		return it->first;
	return std::nullopt;
}

bool valid_service_name(const char *name)
{
	if (!name)
		return false;
	std::size_t n = std::strlen(name);
	if (n == 0 || n > 32)
		return false;
	return std::all_of(name, name + n, [](char c) {
		return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
	});
}

void ModuleLoader::check_owner_and_mode(const fs::path &path, bool dir) const
{
	struct stat st;
	if (::stat(path.c_str(), &st) != 0)
		throw LoadError(path.string() + ": " + std::strerror(errno));
	const char *what = dir ? "plugin directory" : "module";
	if (dir && !S_ISDIR(st.st_mode))
		throw LoadError(path.string() + ": not a directory");
	if (!dir && !S_ISREG(st.st_mode))
		throw LoadError(path.string() + ": not a regular file");
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		std::ostringstream os;
		os << "refusing " << what << " " << path.string() << ": it is "
		   << ((st.st_mode & S_IWOTH) ? "world" : "group") << "-writable (mode " << std::oct
		   << (st.st_mode & 07777) << ")";
		throw LoadError(os.str());
	}
	if (st.st_uid != 0 && st.st_uid != owner_)
		throw LoadError("refusing " + std::string(what) + " " + path.string() +
				": it is owned by uid " + std::to_string(st.st_uid) +
				", neither root nor ilpd's uid " + std::to_string(owner_));
}

namespace
{

// The smallest descriptor of version 2: up to its last member then.
constexpr std::size_t v2_min_size =
    offsetof(ilp_service, config_changed) + sizeof(ilp_service::config_changed);

std::string range_text(std::uint32_t first, std::uint32_t last)
{
	return first == last ? std::to_string(first)
			     : std::to_string(first) + " to " + std::to_string(last);
}

} // namespace

void ModuleLoader::check(const ilp_service &d, bool has_init, bool has_handle,
			 const std::string &where, const Taken &taken)
{
	if (!valid_service_name(d.name))
		throw LoadError("refusing " + where +
				": its name is missing or not 1 to 32 of [a-z0-9_-]");
	const std::string name = d.name;
	if (!has_init || !has_handle)
		throw LoadError("refusing " + where + " (" + name + "): it has no " +
				(!has_init ? "init()" : "handle()"));
	const std::uint64_t last = std::uint64_t(d.service_id) + d.service_count - 1;
	if (d.service_id == 0)
		throw LoadError("refusing " + where + " (" + name + "): service ID 0 is reserved");
	// 0xffffff00 and up: ilpd's own control services, and 0xffffffff.
	if (last >= 0xffffff00u)
		throw LoadError("refusing " + where + " (" + name + "): service IDs " +
				std::to_string(d.service_id) + " to " + std::to_string(last) +
				" hold IDs reserved for ilpd (4294967040 to 4294967295)");
	if (auto other = taken.overlap(d.service_id, static_cast<std::uint32_t>(last)))
		throw LoadError("refusing " + where + " (" + name + "): duplicate service ID " +
				range_text(d.service_id, static_cast<std::uint32_t>(last)) +
				", a loaded module has " +
				range_text(*other, taken.ids.at(*other)));
	if (taken.names.contains(name))
		throw LoadError("refusing " + where + ": duplicate service name \"" + name +
				"\", a loaded module has it");
}

Module ModuleLoader::open(const fs::path &file, const Taken &taken) const
{
	const std::string where = file.string();
	::dlerror();
	// RTLD_NOW: a module with a missing symbol fails here, not in the
	// packet path.  RTLD_LOCAL: modules' symbols do not meet each other.
	Module::Handle handle(::dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL));
	if (!handle) {
		const char *err = ::dlerror();
		throw LoadError("cannot load " + where + ": " + (err ? err : "dlopen failed"));
	}
	::dlerror();
	// ILP_SERVICE_EXPORT defines a pointer to the descriptor.
	auto *sym =
	    static_cast<const ilp_service *const *>(::dlsym(handle.get(), ILP_SERVICE_SYMBOL));
	if (sym && *sym) {
		const ilp_service &d = **sym;
		if (d.abi_version != ILP_SERVICE_ABI_VERSION)
			throw LoadError("refusing " + where + ": built for service ABI version " +
					std::to_string(d.abi_version) + ", ilpd has version " +
					std::to_string(ILP_SERVICE_ABI_VERSION) + " (and 1)");
		if (d.size < v2_min_size)
			throw LoadError("refusing " + where + ": its descriptor is " +
					std::to_string(d.size) + " bytes, less than version " +
					std::to_string(ILP_SERVICE_ABI_VERSION) + "'s " +
					std::to_string(v2_min_size) + " (is size set?)");
		// Only what both know: a newer module's later members are
		// not read, an older one's missing members stay zero.
		ilp_service copy{};
		std::memcpy(&copy, &d, std::min<std::size_t>(d.size, sizeof(copy)));
		if (copy.service_count == 0)
			copy.service_count = 1;
		check(copy, copy.init, copy.handle, where, taken);
		return Module(std::move(handle), ILP_SERVICE_ABI_VERSION, copy, nullptr, file);
	}
	auto *sym1 = static_cast<const ilp_service_v1 *const *>(
	    ::dlsym(handle.get(), ILP_SERVICE_SYMBOL_V1));
	if (!sym1 || !*sym1)
		throw LoadError("refusing " + where +
				": no " ILP_SERVICE_SYMBOL " (nor " ILP_SERVICE_SYMBOL_V1
				") symbol (not an ILP service module?)");
	const ilp_service_v1 &d1 = **sym1;
	if (d1.abi_version != ILP_SERVICE_ABI_VERSION_1)
		throw LoadError("refusing " + where + ": built for service ABI version " +
				std::to_string(d1.abi_version) + " but exports " +
				ILP_SERVICE_SYMBOL_V1);
	ilp_service copy{};
	copy.abi_version = ILP_SERVICE_ABI_VERSION_1;
	copy.size = sizeof(copy);
	copy.service_id = d1.service_id;
	copy.service_count = 1;
	copy.name = d1.name;
	copy.description = d1.description;
	copy.fini = d1.fini;
	copy.config_changed = d1.config_changed;
	// init and handle stay null: a version 1 module's own take other
	// structs, called through v1().
	check(copy, d1.init, d1.handle, where, taken);
	return Module(std::move(handle), ILP_SERVICE_ABI_VERSION_1, copy, &d1, file);
}

Module ModuleLoader::load(const fs::path &file, const Taken &taken) const
{
	std::error_code ec;
	fs::path real = fs::canonical(file, ec);
	if (ec)
		throw LoadError("cannot load " + file.string() + ": " + ec.message());
	check_owner_and_mode(real.parent_path(), true);
	check_owner_and_mode(real, false);
	return open(file, taken);
}

DirLoad ModuleLoader::load_dir(const fs::path &dir, Taken taken) const
{
	std::error_code ec;
	fs::path real_dir = fs::canonical(dir, ec);
	if (ec)
		throw LoadError("cannot read plugin directory " + dir.string() + ": " +
				ec.message());
	check_owner_and_mode(real_dir, true);

	std::vector<fs::path> files;
	for (const auto &e : fs::directory_iterator(real_dir, ec)) {
		if (e.path().extension() == ".so")
			files.push_back(dir / e.path().filename());
	}
	if (ec)
		throw LoadError("cannot read plugin directory " + dir.string() + ": " +
				ec.message());
	std::sort(files.begin(), files.end());

	DirLoad out;
	for (const auto &f : files) {
		try {
			// load() checks the directory again, and the one a
			// symlink leads to: the target may live elsewhere.
			Module m = load(f, taken);
			taken.add(m);
			out.modules.push_back(std::move(m));
		} catch (const LoadError &e) {
			out.failures.push_back({f, e.what()});
		}
	}
	return out;
}

} // namespace ilpd
