# SPDX-License-Identifier: GPL-2.0
#
# Convenience wrapper for building ilp.ko by hand; the real build
# description is ./Kbuild.  Userspace is built with CMake (see README.md).
#
#   make                      build against the running kernel
#   make KERNELDIR=/lib/modules/VER/build
#   make modules_install      install into /lib/modules/VER/updates
#   make clean

KERNELDIR ?= /lib/modules/$(shell uname -r)/build

all: module

module:
	$(MAKE) -C $(KERNELDIR) M=$(CURDIR) modules

modules_install:
	$(MAKE) -C $(KERNELDIR) M=$(CURDIR) INSTALL_MOD_DIR=updates modules_install

clean:
	$(MAKE) -C $(KERNELDIR) M=$(CURDIR) clean

.PHONY: all module modules_install clean
