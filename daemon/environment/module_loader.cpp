// SPDX-License-Identifier: GPL-2.0-or-later
#include "environment/module_loader.hpp"

#include <algorithm>
#include <cerrno>
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

Module::Module(Handle handle, const ilp_service *desc, fs::path path)
    : handle_(std::move(handle)), desc_(desc), path_(std::move(path))
{
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
	if (!sym || !*sym)
		throw LoadError("refusing " + where +
				": no " ILP_SERVICE_SYMBOL " symbol (not an ILP service module?)");
	const ilp_service &d = **sym;
	if (d.abi_version != ILP_SERVICE_ABI_VERSION)
		throw LoadError("refusing " + where + ": built for service ABI version " +
				std::to_string(d.abi_version) + ", ilpd has version " +
				std::to_string(ILP_SERVICE_ABI_VERSION));
	if (!valid_service_name(d.name))
		throw LoadError("refusing " + where +
				": its name is missing or not 1 to 32 of [a-z0-9_-]");
	const std::string name = d.name;
	if (!d.init || !d.handle)
		throw LoadError("refusing " + where + " (" + name + "): it has no " +
				(!d.init ? "init()" : "handle()"));
	if (d.service_id == 0 || d.service_id == 0xffffffffu)
		throw LoadError("refusing " + where + " (" + name + "): service ID " +
				std::to_string(d.service_id) + " is reserved");
	if (taken.ids.contains(d.service_id))
		throw LoadError("refusing " + where + " (" + name + "): duplicate service ID " +
				std::to_string(d.service_id) + ", a loaded module has it");
	if (taken.names.contains(name))
		throw LoadError("refusing " + where + ": duplicate service name \"" + name +
				"\", a loaded module has it");
	return Module(std::move(handle), &d, file);
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
			taken.ids.insert(m.id());
			taken.names.insert(m.name());
			out.modules.push_back(std::move(m));
		} catch (const LoadError &e) {
			out.failures.push_back({f, e.what()});
		}
	}
	return out;
}

} // namespace ilpd
