package dev.jvmm.virt;

import dev.jvmm.core.memory.GuestMemory;
import dev.jvmm.core.memory.RamRegion;
import dev.jvmm.core.testing.HostileCases;
import dev.jvmm.core.testing.SeedExtension;
import dev.jvmm.core.testing.SeededRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Where the loader puts a kernel and the device tree, and what the boot CPU starts with, for each kind of file, as
 * QEMU 7.2's hw/arm/boot.c does (guests/README.md, "How QEMU loads a guest"; the boot-info guest checks the three
 * builds against QEMU itself in {@link GuestCasesTest}); and every kernel file that cannot be booted ending in one
 * {@link BootException} that says why.
 */
@ExtendWith(SeedExtension.class)
class BootLoaderTest {
    static final long RAM = 0x4000_0000L;
    static final RamRegion RAM_128M = new RamRegion(RAM, 128L << 20);
    static final byte[] DTB = new byte[VirtBoard.FDT_SIZE];

    // ------------------------------------------------------------------------------------------------ a kernel kit

    /** One PT_LOAD segment: file bytes at {@code paddr}, {@code memsz} in memory. */
    record Seg(long paddr, byte[] data, long memsz) {
    }

    /** A minimal ELF64 AArch64 executable with these segments (each one's data after the headers). */
    static byte[] elf(long entry, Seg... segs) {
        int phoff = 64;
        int dataAt = phoff + 56 * segs.length;
        int total = dataAt;
        for (Seg s : segs) {
            total += s.data().length;
        }
        ByteBuffer b = ByteBuffer.allocate(total).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[]{0x7f, 'E', 'L', 'F', 2, 1, 1, 0}).put(new byte[8]);
        b.putShort((short) 2).putShort((short) 183).putInt(1).putLong(entry).putLong(phoff).putLong(0).putInt(0)
                .putShort((short) 64).putShort((short) 56).putShort((short) segs.length).putShort((short) 64)
                .putShort((short) 0).putShort((short) 0);
        int off = dataAt;
        for (Seg s : segs) {
            b.putInt(1).putInt(5).putLong(off).putLong(s.paddr()).putLong(s.paddr()).putLong(s.data().length)
                    .putLong(s.memsz()).putLong(0x1000);
            off += s.data().length;
        }
        for (Seg s : segs) {
            b.put(s.data());
        }
        return b.array();
    }

    /** An arm64 Image: the 64-byte header (text_offset, image_size, "ARM\x64") and {@code body} bytes. */
    static byte[] image(long textOffset, long imageSize, int body) {
        ByteBuffer b = ByteBuffer.allocate(64 + body).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0x1400_0010).putInt(0).putLong(textOffset).putLong(imageSize).putLong(0xA).putLong(0).putLong(0)
                .putLong(0).putInt(BootLoader.ARM64_MAGIC).putInt(0);
        return b.array();
    }

    static BootLoader.Plan plan(byte[] kernel, RamRegion ram) {
        return BootLoader.plan(new BootLoader.Kernel("k", kernel), ram, DTB);
    }

    static byte[] bytes(int n, int fill) {
        byte[] b = new byte[n];
        java.util.Arrays.fill(b, (byte) fill);
        return b;
    }

    // ------------------------------------------------------------------------------------------------ placements

    @ParameterizedTest(name = "ELF at 0x{0}: tree at RAM base {1}")
    @CsvSource({"40200000, true", "40100000, true", "400ff000, false", "40080000, false", "40000000, false",
        "44000000, true"})
    void anElfGetsTheTreeAtRamBaseOnlyWhenTheWholeTreeFitsBelowIt(String at, boolean tree) {
        long addr = Long.parseLong(at, 16);
        BootLoader.Plan p = plan(elf(addr + 8, new Seg(addr, bytes(64, 1), 0x2000)), RAM_128M);
        assertThat(p.format()).isEqualTo(BootLoader.Format.ELF);
        assertThat(p.dtbAddress()).as("QEMU's 1 MiB tree fits below 0x%x", addr).isEqualTo(tree ? RAM : -1);
        assertThat(p.pc()).as("an ELF starts at e_entry, no boot stub").isEqualTo(addr + 8);
        assertThat(p.x0()).as("x0 = 0 for an ELF").isZero();
    }

    @Test
    void elfSegmentsAreLoadedAtTheirPhysicalAddressesWithTheirBssZeroed() {
        byte[] k = elf(0x4020_0000L, new Seg(0x4020_0000L, bytes(100, 0x11), 100),
                new Seg(0x4030_0000L, bytes(16, 0x22), 0x1000));
        try (GuestMemory m = GuestMemory.create(RAM, 128L << 20)) {
            m.fill(0x4030_0000L, 0x2000, (byte) 0x55);
            plan(k, RAM_128M).load(m);
            assertThat(m.read8(0x4020_0000L)).isEqualTo((byte) 0x11);
            assertThat(m.read8(0x4020_0063L)).isEqualTo((byte) 0x11);
            assertThat(m.read8(0x4030_000FL)).isEqualTo((byte) 0x22);
            assertThat(m.read8(0x4030_0010L)).as("p_memsz beyond p_filesz is zeroed").isZero();
            assertThat(m.read8(0x4030_0FFFL)).isZero();
            assertThat(m.read8(0x4030_1000L)).as("nothing past p_memsz").isEqualTo((byte) 0x55);
            assertThat(m.read32(RAM)).as("the tree at RAM base").isEqualTo(0);
        }
    }

    @ParameterizedTest(name = "text_offset 0x{0}, {1} MiB RAM: kernel at 0x{2}, tree at 0x{3}")
    @CsvSource({"200000, 128, 40200000, 44000000", "0, 128, 40200000, 44000000", "80000, 128, 40080000, 44000000",
        "fff, 128, 40200fff, 44000000", "1000, 256, 40001000, 48000000", "200000, 1024, 40200000, 48000000",
        "200000, 3072, 40200000, 48000000", "200000, 64, 40200000, 42000000"})
    void anImageGoesAtTextOffsetAndTheTreeWhereAnInitrdWouldStart(String textOffset, int ramMib, String kernelAt,
                                                                 String treeAt) {
        RamRegion ram = new RamRegion(RAM, (long) ramMib << 20);
        BootLoader.Plan p = plan(image(Long.parseLong(textOffset, 16), 0x10000, 4096), ram);
        assertThat(p.format()).isEqualTo(BootLoader.Format.IMAGE);
        assertThat(Long.toHexString(p.entry())).isEqualTo(kernelAt);
        assertThat(Long.toHexString(p.dtbAddress())).isEqualTo(treeAt);
        assertThat(p.pc()).as("the boot stub at RAM base").isEqualTo(RAM);
    }

    @Test
    void aRawBinaryGoesAtRamBasePlus512KiB() {
        BootLoader.Plan p = plan(bytes(4096, 0x13), RAM_128M);
        assertThat(p.format()).isEqualTo(BootLoader.Format.RAW);
        assertThat(p.entry()).isEqualTo(0x4008_0000L);
        assertThat(p.dtbAddress()).isEqualTo(0x4400_0000L);
        BootLoader.Plan noSize = plan(image(0x200000, 0, 4096), RAM_128M);
        assertThat(noSize.format()).as("an Image header with image_size 0 (before Linux 3.17) loads as raw")
                .isEqualTo(BootLoader.Format.RAW);
        assertThat(noSize.entry()).isEqualTo(0x4008_0000L);
    }

    @Test
    void aBigImagePushesTheTreePastItsEnd() {
        // image_size 100 MiB from 0x40200000: the initrd's place (RAM/2 = 64 MiB) is inside it, the tree goes after.
        BootLoader.Plan p = plan(image(0x200000, 100L << 20, 4096), new RamRegion(RAM, 256L << 20));
        assertThat(Long.toHexString(p.dtbAddress())).isEqualTo("48000000");
        BootLoader.Plan q = plan(image(0x200000, 100L << 20, 4096), RAM_128M);
        assertThat(Long.toHexString(q.dtbAddress())).as("0x40200000 + 100 MiB, 2 MiB aligned").isEqualTo("46600000");
    }

    /** QEMU's bootloader_aarch64 runs on the CPU: x0 = the tree, x1..x3 = 0, x4 = the entry, then BR x4. */
    @Test
    void theBootStubIsQemus() {
        try (GuestMemory m = GuestMemory.create(RAM, 128L << 20)) {
            BootLoader.Plan p = plan(image(0x200000, 0x1000, 64), RAM_128M);
            p.load(m);
            int[] expect = {0x580000c0, 0xaa1f03e1, 0xaa1f03e2, 0xaa1f03e3, 0x58000084, 0xd61f0080};
            for (int i = 0; i < expect.length; i++) {
                assertThat(m.read32(RAM + 4L * i)).isEqualTo(expect[i]);
            }
            assertThat(m.read64(RAM + 24)).as("arg: the tree").isEqualTo(0x4400_0000L);
            assertThat(m.read64(RAM + 32)).as("entry").isEqualTo(0x4020_0000L);
        }
    }

    @Test
    void aGzipCompressedImageIsDecompressedFirst() throws Exception {
        ByteArrayOutputStream z = new ByteArrayOutputStream();
        try (GZIPOutputStream g = new GZIPOutputStream(z)) {
            g.write(image(0x80000, 0x10000, 8192));
        }
        BootLoader.Plan p = plan(z.toByteArray(), RAM_128M);
        assertThat(p.format()).isEqualTo(BootLoader.Format.IMAGE);
        assertThat(p.entry()).isEqualTo(0x4008_0000L);
        assertThatThrownBy(() -> plan(new byte[]{0x1f, (byte) 0x8b, 8, 0, 1, 2, 3}, RAM_128M))
                .isInstanceOf(BootException.class).hasMessageContaining("damaged gzip");
    }

    // ------------------------------------------------------------------------------------------------ initrd

    /** What the loader told the device tree about the initrd, and the blob it got back. */
    static final class TreeCalls implements BootLoader.DeviceTree {
        long start = -1;
        long size = -1;
        int calls;

        @Override
        public byte[] blob(long initrdStart, long initrdSize) {
            start = initrdStart;
            size = initrdSize;
            calls++;
            return DTB;
        }
    }

    static BootLoader.Plan plan(byte[] kernel, RamRegion ram, byte[] initrd, TreeCalls tree) {
        return BootLoader.plan(new BootLoader.Kernel("k", kernel), initrd == null ? null
                : new BootLoader.Initrd("i", initrd), ram, tree);
    }

    /**
     * QEMU's arm_setup_direct_kernel_boot: the initrd at RAM base + min(RAM/2, 128 MiB), or after the image when
     * the image reaches past that, page aligned; the tree 2 MiB aligned after the initrd's last byte.
     */
    @ParameterizedTest(name = "{0} MiB RAM, image_size 0x{1}, initrd {2} bytes: initrd at 0x{3}, tree at 0x{4}")
    @CsvSource({"128, 10000, 5288, 44000000, 44200000", "512, 10000, 5288, 48000000, 48200000",
        "3072, 10000, 2097152, 48000000, 48200000", "3072, 10000, 2097153, 48000000, 48400000",
        "128, 4000000, 1, 44200000, 44400000", "64, 2800001, 4096, 42a01000, 42c00000",
        "256, 10000, 0, 48000000, 48000000"})
    void anInitrdGoesWhereQemuPutsItAndTheTreeAfterIt(int ramMib, String imageSize, int initrdSize, String initrdAt,
                                                      String treeAt) {
        TreeCalls tree = new TreeCalls();
        byte[] initrd = bytes(initrdSize, 0x5a);
        BootLoader.Plan p = plan(image(0x200000, Long.parseLong(imageSize, 16), 4096),
                new RamRegion(RAM, (long) ramMib << 20), initrd, tree);
        assertThat(tree.calls).as("the tree is made once").isEqualTo(1);
        assertThat(Long.toHexString(p.dtbAddress())).isEqualTo(treeAt);
        if (initrdSize == 0) {
            // QEMU: an empty file loads 0 bytes, and arm_load_dtb writes the properties only for a non-zero size.
            assertThat(tree.size).isZero();
            assertThat(p.initrdSize()).isZero();
            assertThat(p.blobs()).extracting(BootLoader.Blob::what).doesNotContain("initrd");
            return;
        }
        assertThat(Long.toHexString(p.initrdStart())).isEqualTo(initrdAt);
        assertThat(p.initrdSize()).isEqualTo(initrdSize);
        assertThat(tree.start).as("the tree is told where the initrd is").isEqualTo(p.initrdStart());
        assertThat(tree.size).isEqualTo(initrdSize);
        if (ramMib > 512) {
            return;                                          // the bytes are checked with the smaller RAMs
        }
        try (GuestMemory m = GuestMemory.create(RAM, (long) ramMib << 20)) {
            p.load(m);
            assertThat(m.read8(p.initrdStart())).isEqualTo((byte) 0x5a);
            assertThat(m.read8(p.initrdStart() + initrdSize - 1)).isEqualTo((byte) 0x5a);
            assertThat(m.read64(RAM + 24)).as("the boot stub passes the tree after the initrd")
                    .isEqualTo(p.dtbAddress());
        }
    }

    @Test
    void anElfIsNotLinuxAndGetsNoInitrd() {
        TreeCalls tree = new TreeCalls();
        BootLoader.Plan p = plan(elf(0x4020_0000L, new Seg(0x4020_0000L, bytes(64, 1), 64)), RAM_128M,
                bytes(5000, 1), tree);
        assertThat(p.initrdSize()).isZero();
        assertThat(tree.size).as("no initrd properties").isZero();
        assertThat(p.blobs()).extracting(BootLoader.Blob::what).doesNotContain("initrd");
    }

    /** QEMU's three refusals, each one message: no room at all, a file longer than the room, no room for the tree. */
    @Test
    void initrdsThatDoNotFitSayWhy() {
        // image_size 127 MiB from 0x40200000: the initrd would start at 0x48000000 (the end of 128 MiB).
        assertThatThrownBy(() -> plan(image(0x200000, 126L << 20, 64), RAM_128M, bytes(1, 0), new TreeCalls()))
                .isInstanceOf(BootException.class)
                .hasMessage("i: not enough space after the kernel to load the initrd (it would go at 0x48000000, RAM "
                        + "ends at 0x48000000)");
        long room = 64L << 20;                               // from 0x44000000 to the end of 128 MiB
        assertThatThrownBy(() -> plan(image(0x200000, 0x10000, 64), RAM_128M, new byte[(int) room + 1],
                new TreeCalls()))
                .isInstanceOf(BootException.class)
                .hasMessage("i: the initrd (67108865 bytes) is too big to fit into RAM after the kernel (it would go "
                        + "at 0x44000000, RAM ends at 0x48000000)");
        assertThatThrownBy(() -> plan(image(0x200000, 0x10000, 64), RAM_128M, new byte[(int) room], new TreeCalls()))
                .as("an initrd up to the end of RAM leaves no room for the tree")
                .isInstanceOf(BootException.class)
                .hasMessageContaining("k: not enough space for the device tree after the kernel and the initrd");
        BootLoader.Plan fits = plan(image(0x200000, 0x10000, 64), RAM_128M,
                new byte[(int) room - 2 * (int) BootLoader.MIB], new TreeCalls());
        assertThat(fits.dtbAddress() + DTB.length).as("the last initrd that fits: the tree ends at RAM's end")
                .isEqualTo(RAM_128M.end() - BootLoader.MIB);
    }

    /**
     * Random RAM, kernel and initrd sizes: a plan keeps every blob inside RAM, apart from the others, the initrd page
     * aligned at or after its place and the tree 2 MiB aligned after it; or one BootException names the file.
     */
    @Test
    void initrdsOfHostileSizesArePlacedOrRefused(SeededRandom random) {
        for (int i = 0; i < HostileCases.cases(300); i++) {
            long ramSize = (1L + random.nextInt(48)) << 20;
            RamRegion ram = new RamRegion(RAM, ramSize);
            long imageSize = random.nextInt(4) == 0 ? random.nextLong(1, ramSize + 1)
                    : 0x1000 + random.nextInt(1 << 20);
            int initrdSize = random.nextInt(3) == 0 ? random.nextInt((int) ramSize + 1) : random.nextInt(1 << 16);
            TreeCalls tree = new TreeCalls();
            try {
                BootLoader.Plan p = plan(image(0x200000, imageSize, 256), ram, new byte[initrdSize], tree);
                java.util.List<BootLoader.Blob> blobs = new java.util.ArrayList<>(p.blobs());
                blobs.sort(java.util.Comparator.comparingLong(BootLoader.Blob::address));
                for (int b = 0; b < blobs.size(); b++) {
                    assertThat(blobs.get(b).address()).isGreaterThanOrEqualTo(RAM);
                    assertThat(blobs.get(b).end()).isLessThanOrEqualTo(ram.end());
                    if (b > 0) {
                        assertThat(blobs.get(b).address()).as("%s after %s", blobs.get(b).what(),
                                blobs.get(b - 1).what()).isGreaterThanOrEqualTo(blobs.get(b - 1).end());
                    }
                }
                long place = Math.max(RAM + Math.min(ramSize / 2, 128 * BootLoader.MIB), p.kernelHigh());
                assertThat(p.dtbAddress() % (2 * BootLoader.MIB)).isZero();
                if (initrdSize > 0) {
                    assertThat(p.initrdStart()).isEqualTo((place + 4095) & -4096L);
                    assertThat(p.dtbAddress()).isGreaterThanOrEqualTo(p.initrdStart() + initrdSize)
                            .isLessThan(p.initrdStart() + initrdSize + 2 * BootLoader.MIB);
                    assertThat(tree.start).isEqualTo(p.initrdStart());
                    assertThat(tree.size).isEqualTo(initrdSize);
                } else {
                    assertThat(tree.size).isZero();
                }
            } catch (BootException refused) {
                assertThat(refused.getMessage()).matches("[ki]: .*");
            }
        }
    }

    // ------------------------------------------------------------------------------------------------ hostile files

    @Test
    void kernelsThatCannotBeBootedSayWhy() {
        long in = 0x4020_0000L;
        byte[] good = elf(in, new Seg(in, bytes(64, 1), 64));
        assertThatThrownBy(() -> plan(new byte[0], RAM_128M)).isInstanceOf(BootException.class)
                .hasMessage("k: the kernel file is empty");
        assertThatThrownBy(() -> plan(java.util.Arrays.copyOf(good, 40), RAM_128M)).isInstanceOf(BootException.class)
                .hasMessageContaining("truncated ELF").hasMessageContaining("shorter than an ELF header");
        assertThatThrownBy(() -> plan(java.util.Arrays.copyOf(good, 80), RAM_128M)).isInstanceOf(BootException.class)
                .hasMessageContaining("truncated ELF").hasMessageContaining("program headers");
        assertThatThrownBy(() -> plan(java.util.Arrays.copyOf(good, good.length - 1), RAM_128M))
                .isInstanceOf(BootException.class).hasMessageContaining("truncated ELF: segment 0");
        assertThatThrownBy(() -> plan(elf(in, new Seg(0x3FFF_F000L, bytes(16, 1), 0x2000)), RAM_128M))
                .isInstanceOf(BootException.class).hasMessageContaining("outside RAM");
        assertThatThrownBy(() -> plan(elf(in, new Seg(0x47FF_F000L, bytes(16, 1), 0x2000)), RAM_128M))
                .as("a segment running past the end of RAM").isInstanceOf(BootException.class)
                .hasMessageContaining("outside RAM");
        assertThatThrownBy(() -> plan(elf(in, new Seg(-4096, bytes(16, 1), 0x2000)), RAM_128M))
                .as("a segment that wraps around the address space").isInstanceOf(BootException.class)
                .hasMessageContaining("outside RAM");
        assertThatThrownBy(() -> plan(elf(in, new Seg(in, bytes(16, 1), 0x2000), new Seg(in + 0x1000, bytes(8, 2), 8)),
                RAM_128M)).isInstanceOf(BootException.class).hasMessageContaining("overlaps");
        assertThatThrownBy(() -> plan(elf(in), RAM_128M)).isInstanceOf(BootException.class)
                .hasMessageContaining("no loadable segment");
        byte[] arm32 = good.clone();
        arm32[18] = 40;
        assertThatThrownBy(() -> plan(arm32, RAM_128M)).isInstanceOf(BootException.class)
                .hasMessageContaining("not AArch64");
        byte[] elf32 = good.clone();
        elf32[4] = 1;
        assertThatThrownBy(() -> plan(elf32, RAM_128M)).isInstanceOf(BootException.class)
                .hasMessageContaining("not a 64-bit little-endian ELF");
        assertThatThrownBy(() -> plan(image(0x200000, 256L << 20, 64), RAM_128M)).isInstanceOf(BootException.class)
                .hasMessage("k: kernel is too large to fit in RAM (kernel size 268435456, RAM size 134217728)");
        assertThatThrownBy(() -> plan(image(0x7F00_0000L, 0x1000, 64), RAM_128M)).isInstanceOf(BootException.class)
                .hasMessageContaining("does not fit in RAM");
        assertThatThrownBy(() -> plan(image(-4096, 0x1000, 64), RAM_128M)).isInstanceOf(BootException.class)
                .hasMessageContaining("does not fit in RAM");
        assertThatThrownBy(() -> plan(bytes(127 << 20, 0), RAM_128M)).as("a raw kernel that leaves no room for the tree")
                .isInstanceOf(BootException.class).hasMessageContaining("not enough space for the device tree");
    }

    /**
     * Damaged and random kernel files: each one plans, or is refused with a {@link BootException}; nothing else
     * escapes, and a plan writes only inside RAM.
     */
    @Test
    void damagedKernelsArePlannedOrRefusedNeverCrash(SeededRandom random) {
        byte[] good = elf(0x4020_0000L, new Seg(0x4020_0000L, bytes(256, 1), 0x1000),
                new Seg(0x4030_0000L, bytes(64, 2), 0x100));
        byte[] img = image(0x200000, 0x10000, 512);
        for (int i = 0; i < HostileCases.cases(2000); i++) {
            byte[] k = (random.nextBoolean() ? good : img).clone();
            int flips = 1 + random.nextInt(8);
            for (int f = 0; f < flips; f++) {
                int at = random.nextInt(Math.min(k.length, 200));
                if (random.nextBoolean()) {
                    k[at] = (byte) random.nextInt();
                } else {
                    ByteBuffer.wrap(k).order(ByteOrder.LITTLE_ENDIAN).putLong(Math.min(at, k.length - 8),
                            random.edgyLong());
                }
            }
            if (random.nextInt(8) == 0) {
                k = java.util.Arrays.copyOf(k, random.nextInt(k.length + 1));
            }
            try {
                BootLoader.Plan p = plan(k, RAM_128M);
                for (BootLoader.Blob b : p.blobs()) {
                    assertThat(b.address()).isGreaterThanOrEqualTo(RAM);
                    assertThat(Long.compareUnsigned(b.end(), RAM_128M.end())).isLessThanOrEqualTo(0);
                }
            } catch (BootException expected) {
                assertThat(expected.getMessage()).startsWith("k: ");
            }
        }
    }

    /** The files themselves: missing, a directory, unreadable: one message each, through the machine builder. */
    @Test
    void filesThatCannotBeReadSayWhy() throws Exception {
        Path dir = Files.createTempDirectory("kernels");
        try {
            assertThatThrownBy(() -> VirtMachine.readFile("kernel", dir.resolve("nope.elf")))
                    .isInstanceOf(BootException.class).hasMessageEndingWith("nope.elf: no such kernel file");
            assertThatThrownBy(() -> VirtMachine.readFile("kernel", dir)).isInstanceOf(BootException.class)
                    .hasMessageContaining("is a directory");
        } finally {
            Files.deleteIfExists(dir);
        }
    }
}
