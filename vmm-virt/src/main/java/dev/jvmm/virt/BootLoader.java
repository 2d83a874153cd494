package dev.jvmm.virt;

import dev.jvmm.core.memory.GuestMemory;
import dev.jvmm.core.memory.RamRegion;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.zip.GZIPInputStream;

/**
 * QEMU's arm loader ({@code hw/arm/boot.c}, QEMU 7.2) for a {@code -kernel} file on the {@code virt} board: where the
 * kernel and the device tree go in RAM and the state the boot CPU starts in. It decides everything up front
 * ({@link #plan}: a {@link Plan} of blobs and registers, checked against RAM) and writes nothing until
 * {@link Plan#load}, so a reset replays the same plan, as QEMU's ROM blobs are copied again at every reset.
 *
 * <pre>
 *  kernel file          where it goes                          device tree                       boot CPU
 *  ───────────────────  ─────────────────────────────────────  ────────────────────────────────  ──────────────────
 *  ELF (EM_AARCH64)     each PT_LOAD at p_paddr, p_memsz        at RAM base only if it fits       PC = e_entry,
 *                       (the rest zeroed)                      below the lowest segment, else    x0..x3 = 0
 *                                                              nowhere (and no message)
 *  arm64 Image          RAM base + text_offset (+ 2 MiB when   RAM base + min(RAM/2, 128 MiB),   the boot stub at
 *  ("ARM\x64" at 0x38,  text_offset &lt; 4 KiB: the stub's page) past the image, 2 MiB aligned      RAM base: x0 = the
 *  image_size != 0)                                                                              tree, x1..x3 = 0,
 *  anything else (raw)  RAM base + 0x80000                     as for an Image                   x4 = entry, BR x4
 *  gzip of either       decompressed first (at most 256 MiB)
 *
 *  initrd (-initrd)     for an Image or raw binary: at RAM base + min(RAM/2, 128 MiB), or right after the image when
 *                       that is higher, page aligned; the tree then goes 2 MiB aligned after the initrd, and /chosen
 *                       gets linux,initrd-start and linux,initrd-end. An ELF is not taken for Linux: no initrd.
 * </pre>
 *
 * The boot stub is QEMU's {@code bootloader_aarch64}: six instructions and four data words at the base of RAM,
 * executed by the boot CPU, so a kernel starts with exactly QEMU's registers (x4 = its entry included).
 */
final class BootLoader {
    static final long KERNEL64_LOAD_ADDR = 0x8_0000L;
    /** QEMU's BOOTLOADER_MAX_SIZE: an Image asking for a text_offset below it is moved up by 2 MiB. */
    static final long BOOTLOADER_MAX_SIZE = 0x1000L;
    static final long MIB = 1L << 20;
    /** QEMU's LOAD_IMAGE_MAX_GUNZIP_BYTES. */
    static final long MAX_GUNZIP_BYTES = 256 * MIB;
    static final int ARM64_MAGIC_OFFSET = 0x38;
    static final int ARM64_MAGIC = 0x644d_5241;           // "ARM\x64", little-endian
    static final int ARM64_TEXT_OFFSET_OFFSET = 8;
    static final int ARM64_IMAGE_SIZE_OFFSET = 16;

    // ELF (System V ABI, ELF-64 Object File Format; AArch64 ELF ABI for EM_AARCH64)
    static final int EI_CLASS = 4;
    static final int EI_DATA = 5;
    static final int ELFCLASS64 = 2;
    static final int ELFDATA2LSB = 1;
    static final int ET_EXEC = 2;
    static final int ET_DYN = 3;
    static final int EM_AARCH64 = 183;
    static final int PT_LOAD = 1;
    static final int ELF64_EHDR_SIZE = 64;
    static final int ELF64_PHDR_SIZE = 56;

    /**
     * QEMU's {@code bootloader_aarch64}: {@code ldr x0, arg; mov x1, xzr; mov x2, xzr; mov x3, xzr; ldr x4, entry;
     * br x4; arg: .dword DTB; entry: .dword kernel entry}.
     */
    static final int[] BOOT_STUB = {0x5800_00c0, 0xaa1f_03e1, 0xaa1f_03e2, 0xaa1f_03e3, 0x5800_0084, 0xd61f_0080};

    private BootLoader() {
    }

    /** What kind of file the kernel was. */
    enum Format {
        ELF("ELF"), IMAGE("arm64 Image"), RAW("raw binary");

        final String description;

        Format(String description) {
            this.description = description;
        }
    }

    /** Bytes to copy to {@code address}: {@code length} bytes of {@code data} from {@code offset}, then zeroes. */
    record Blob(String what, long address, byte[] data, int offset, int length, long zeroes) {
        long end() {
            return address + length + zeroes;
        }
    }

    /**
     * Everything a boot writes and the boot CPU's registers.
     *
     * @param dtbAddress where the device tree is, or -1 when there is none in memory (an ELF that leaves no room)
     * @param pc         where the boot CPU starts (the stub, or an ELF's entry)
     * @param x0         the boot CPU's x0 at {@code pc} (0; the stub loads the tree's address itself)
     * @param entry      the kernel's entry point
     * @param dtb        the device tree blob as loaded (or as it would be, when there is no room for it)
     * @param initrdStart where the initrd is, 0 when none was loaded
     * @param initrdSize  its length, 0 when none was loaded
     */
    record Plan(Format format, List<Blob> blobs, long dtbAddress, long pc, long x0, long entry, long kernelLow,
                long kernelHigh, byte[] dtb, long initrdStart, long initrdSize) {
        /** Copies every blob into {@code memory} (the stub, the kernel's segments, the tree). */
        void load(GuestMemory memory) {
            for (Blob b : blobs) {
                memory.write(b.address(), b.data(), b.offset(), b.length());
                if (b.zeroes() > 0) {
                    memory.fill(b.address() + b.length(), b.zeroes(), (byte) 0);
                }
            }
        }
    }

    /** The bytes of a kernel file, and its name for messages. */
    record Kernel(String name, byte[] bytes) {
    }

    /** The bytes of an initrd file (QEMU's {@code -initrd}: copied as they are), and its name for messages. */
    record Initrd(String name, byte[] bytes) {
    }

    /**
     * The device tree blob for a boot, made once the initrd's place is known (arm_load_dtb writes the initrd's
     * range into /chosen). Its length is the room it takes, as QEMU counts it: totalsize.
     */
    @FunctionalInterface
    interface DeviceTree {
        /**
         * @param initrdStart where the initrd is (0 when there is none)
         * @param initrdSize  its length in bytes; 0 when there is none, and then no initrd properties
         */
        byte[] blob(long initrdStart, long initrdSize);
    }

    /** Plans the boot of {@code kernel} without an initrd, with a fixed device tree blob. */
    static Plan plan(Kernel kernel, RamRegion ram, byte[] dtb) {
        return plan(kernel, null, ram, (start, size) -> dtb);
    }

    /**
     * Plans the boot of {@code kernel} and {@code initrd} (null for none) in {@code ram}, with the device tree
     * {@code dtb} makes for the initrd's place.
     *
     * @throws BootException for a kernel or initrd that cannot be booted here, with what is wrong
     */
    static Plan plan(Kernel kernel, Initrd initrd, RamRegion ram, DeviceTree dtb) {
        byte[] k = kernel.bytes();
        if (k.length == 0) {
            throw new BootException(kernel.name() + ": the kernel file is empty");
        }
        if (isElf(k)) {
            // boot.c: "Assume that raw images are linux kernels, and ELF images are not": an ELF's initrd is
            // never loaded (QEMU says nothing either).
            return planElf(kernel, ram, dtb.blob(0, 0));
        }
        if (k.length >= 2 && (k[0] & 0xFF) == 0x1f && (k[1] & 0xFF) == 0x8b) {
            k = gunzip(kernel.name(), k);
        }
        return planImage(kernel.name(), k, initrd, ram, dtb);
    }

    static boolean isElf(byte[] k) {
        return k.length >= 4 && k[0] == 0x7f && k[1] == 'E' && k[2] == 'L' && k[3] == 'F';
    }

    // ------------------------------------------------------------------------------------------------ ELF

    private static Plan planElf(Kernel kernel, RamRegion ram, byte[] dtb) {
        String name = kernel.name();
        byte[] f = kernel.bytes();
        if (f.length < ELF64_EHDR_SIZE) {
            throw new BootException(name + ": truncated ELF: " + f.length + " bytes, shorter than an ELF header");
        }
        if (f[EI_CLASS] != ELFCLASS64 || f[EI_DATA] != ELFDATA2LSB) {
            throw new BootException(name + ": not a 64-bit little-endian ELF (EI_CLASS " + f[EI_CLASS] + ", EI_DATA "
                    + f[EI_DATA] + "); this board boots AArch64 kernels");
        }
        ByteBuffer b = ByteBuffer.wrap(f).order(ByteOrder.LITTLE_ENDIAN);
        int type = b.getShort(16) & 0xFFFF;
        int machine = b.getShort(18) & 0xFFFF;
        if (machine != EM_AARCH64) {
            throw new BootException(name + ": an ELF for machine " + machine + ", not AArch64 (EM_AARCH64 = 183)");
        }
        if (type != ET_EXEC && type != ET_DYN) {
            throw new BootException(name + ": ELF type " + type + " is not an executable (ET_EXEC or ET_DYN)");
        }
        long entry = b.getLong(24);
        long phoff = b.getLong(32);
        int phentsize = b.getShort(54) & 0xFFFF;
        int phnum = b.getShort(56) & 0xFFFF;
        if (phnum > 0 && phentsize != ELF64_PHDR_SIZE) {
            throw new BootException(name + ": ELF program headers of " + phentsize + " bytes, not " + ELF64_PHDR_SIZE);
        }
        if (phoff < 0 || phoff > f.length || (long) phnum * ELF64_PHDR_SIZE > f.length - phoff) {
            throw new BootException(name + ": truncated ELF: its " + phnum + " program headers at offset " + phoff
                    + " run past the end of the file (" + f.length + " bytes)");
        }
        List<Blob> blobs = new ArrayList<>();
        for (int i = 0; i < phnum; i++) {
            int at = (int) phoff + i * ELF64_PHDR_SIZE;
            if (b.getInt(at) != PT_LOAD) {
                continue;
            }
            long offset = b.getLong(at + 8);
            long paddr = b.getLong(at + 24);
            long filesz = b.getLong(at + 32);
            long memsz = b.getLong(at + 40);
            if (memsz == 0) {
                continue;                                    // QEMU skips empty segments too
            }
            String seg = "segment " + i;
            if (filesz < 0 || memsz < 0 || filesz > memsz) {
                throw new BootException(name + ": ELF " + seg + " has p_filesz 0x" + Long.toHexString(filesz)
                        + " larger than p_memsz 0x" + Long.toHexString(memsz));
            }
            if (offset < 0 || offset > f.length || filesz > f.length - offset) {
                throw new BootException(name + ": truncated ELF: " + seg + " needs file bytes up to offset 0x"
                        + Long.toHexString(offset + filesz) + " but the file has 0x" + Long.toHexString(f.length));
            }
            if (!inRam(ram, paddr, memsz)) {
                throw new BootException(String.format("%s: ELF %s at 0x%x..0x%x is outside RAM (0x%x..0x%x)", name,
                        seg, paddr, paddr + memsz, ram.base(), ram.end()));
            }
            blobs.add(new Blob("kernel " + seg, paddr, f, (int) offset, (int) filesz, memsz - filesz));
        }
        if (blobs.isEmpty()) {
            throw new BootException(name + ": the ELF has no loadable segment (PT_LOAD)");
        }
        checkOverlaps(name, blobs);
        long low = blobs.stream().mapToLong(Blob::address).min().orElseThrow();
        long high = blobs.stream().mapToLong(Blob::end).max().orElseThrow();
        // boot.c: "If there is still some room left at the base of RAM, try and put the DTB there": only when the
        // whole tree fits below the lowest segment; arm_load_dtb otherwise installs no tree at all, silently.
        long dtbAddress = -1;
        if (low > ram.base() && dtb.length <= low - ram.base()) {
            dtbAddress = ram.base();
            blobs.add(0, new Blob("device tree", dtbAddress, dtb, 0, dtb.length, 0));
        }
        // A non-Linux ELF gets no boot stub: the CPU starts at e_entry with its reset registers (x0..x3 = 0).
        return new Plan(Format.ELF, List.copyOf(blobs), dtbAddress, entry, 0, entry, low, high, dtb, 0, 0);
    }

    private static void checkOverlaps(String name, List<Blob> blobs) {
        List<Blob> sorted = new ArrayList<>(blobs);
        sorted.sort(Comparator.comparingLong(Blob::address));
        for (int i = 1; i < sorted.size(); i++) {
            Blob a = sorted.get(i - 1);
            Blob c = sorted.get(i);
            if (Long.compareUnsigned(c.address(), a.end()) < 0) {
                throw new BootException(String.format("%s: ELF %s (0x%x..0x%x) overlaps %s (0x%x..0x%x)", name,
                        c.what().substring(7), c.address(), c.end(), a.what().substring(7), a.address(), a.end()));
            }
        }
    }

    private static boolean inRam(RamRegion ram, long address, long length) {
        return Long.compareUnsigned(address, ram.base()) >= 0 && Long.compareUnsigned(length, ram.size()) <= 0
                && Long.compareUnsigned(address - ram.base(), ram.size() - length) <= 0;
    }

    // ------------------------------------------------------------------------------------------------ Image, raw

    private static Plan planImage(String name, byte[] k, Initrd initrd, RamRegion ram, DeviceTree tree) {
        ByteBuffer b = ByteBuffer.wrap(k).order(ByteOrder.LITTLE_ENDIAN);
        long loadOffset = KERNEL64_LOAD_ADDR;
        long kernelSize = 0;
        Format format = Format.RAW;
        // load_aarch64_image: the header's text_offset counts only when image_size is non-zero (kernels since 3.17).
        if (k.length > ARM64_MAGIC_OFFSET + 4 && b.getInt(ARM64_MAGIC_OFFSET) == ARM64_MAGIC) {
            long textOffset = b.getLong(ARM64_TEXT_OFFSET_OFFSET);
            kernelSize = b.getLong(ARM64_IMAGE_SIZE_OFFSET);
            if (kernelSize != 0) {
                format = Format.IMAGE;
                loadOffset = textOffset;
                if (Long.compareUnsigned(loadOffset, BOOTLOADER_MAX_SIZE) < 0) {
                    loadOffset += 2 * MIB;                   // the stub's page stays free
                }
            }
        }
        if (kernelSize == 0) {
            kernelSize = k.length;
        }
        if (Long.compareUnsigned(kernelSize, ram.size()) > 0) {
            throw new BootException(String.format("%s: kernel is too large to fit in RAM (kernel size %d, RAM size %d)",
                    name, kernelSize, ram.size()));
        }
        if (Long.compareUnsigned(loadOffset, ram.size()) >= 0 || !inRam(ram, ram.base() + loadOffset, k.length)) {
            throw new BootException(String.format("%s: the %s at 0x%x + %d bytes does not fit in RAM (0x%x..0x%x)",
                    name, format.description, ram.base() + loadOffset, k.length, ram.base(), ram.end()));
        }
        long entry = ram.base() + loadOffset;
        long high = entry + Math.max(kernelSize, k.length);
        // The initrd's place (half of RAM, at most 128 MiB, never inside the image, page aligned), and the tree
        // 2 MiB aligned after it: "Some AArch64 kernels on early bootup map the fdt region as [ALIGNDOWN(fdt, 2MB)
        // ... + 2MB]" (boot.c). Without an initrd the tree sits where an initrd would start.
        long initrdStart = ram.base() + Math.min(ram.size() / 2, 128 * MIB);
        if (Long.compareUnsigned(high, initrdStart) > 0) {
            initrdStart = high;
        }
        initrdStart = alignUp(initrdStart, 4096);
        long initrdSize = 0;
        if (initrd != null) {
            // QEMU's two checks, in its order: no room at all, then a file longer than the room left.
            if (Long.compareUnsigned(initrdStart, ram.end()) >= 0) {
                throw new BootException(String.format("%s: not enough space after the kernel to load the initrd "
                        + "(it would go at 0x%x, RAM ends at 0x%x)", initrd.name(), initrdStart, ram.end()));
            }
            initrdSize = initrd.bytes().length;
            if (initrdSize > ram.end() - initrdStart) {
                throw new BootException(String.format("%s: the initrd (%d bytes) is too big to fit into RAM after the "
                        + "kernel (it would go at 0x%x, RAM ends at 0x%x)", initrd.name(), initrdSize, initrdStart,
                        ram.end()));
            }
        }
        long dtbAddress = alignUp(initrdStart + initrdSize, 2 * MIB);
        byte[] dtb = tree.blob(initrdSize == 0 ? 0 : initrdStart, initrdSize);
        if (!inRam(ram, dtbAddress, dtb.length)) {
            throw new BootException(String.format("%s: not enough space for the device tree after the kernel%s (it "
                    + "would go at 0x%x, %d bytes, RAM ends at 0x%x)", name, initrdSize == 0 ? "" : " and the initrd",
                    dtbAddress, dtb.length, ram.end()));
        }
        List<Blob> blobs = new ArrayList<>();
        blobs.add(new Blob("boot stub", ram.base(), stub(dtbAddress, entry), 0, BOOT_STUB.length * 4 + 16, 0));
        blobs.add(new Blob("kernel", entry, k, 0, k.length, 0));
        if (initrdSize > 0) {
            blobs.add(new Blob("initrd", initrdStart, initrd.bytes(), 0, (int) initrdSize, 0));
        }
        blobs.add(new Blob("device tree", dtbAddress, dtb, 0, dtb.length, 0));
        return new Plan(format, List.copyOf(blobs), dtbAddress, ram.base(), 0, entry, entry, high, dtb,
                initrdSize == 0 ? 0 : initrdStart, initrdSize);
    }

    static byte[] stub(long dtb, long entry) {
        ByteBuffer s = ByteBuffer.allocate(BOOT_STUB.length * 4 + 16).order(ByteOrder.LITTLE_ENDIAN);
        for (int insn : BOOT_STUB) {
            s.putInt(insn);
        }
        s.putLong(dtb).putLong(entry);
        return s.array();
    }

    private static long alignUp(long v, long a) {
        return (v + a - 1) & -a;
    }

    private static byte[] gunzip(String name, byte[] k) {
        try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(k))) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buf = new byte[64 * 1024];
            int n;
            while ((n = in.read(buf)) > 0) {
                out.write(buf, 0, n);
                if (out.size() > MAX_GUNZIP_BYTES) {
                    throw new BootException(name + ": the gzip-compressed kernel expands beyond 256 MiB");
                }
            }
            if (out.size() == 0) {
                throw new BootException(name + ": the gzip-compressed kernel is empty");
            }
            return out.toByteArray();
        } catch (IOException e) {
            throw new BootException(name + ": a damaged gzip-compressed kernel (" + e.getMessage() + ")");
        }
    }
}
