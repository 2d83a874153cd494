package dev.jvmm.arm64.oracle;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A static AArch64 Linux executable with one loadable segment, as the System V gABI and the AArch64 ELF supplement
 * (IHI 0056) define it: the ELF header, one PT_LOAD program header, and the segment's bytes, which start at file
 * offset 0 (so the headers are part of the mapped image, as with {@code ld -N}). No section headers: a loader needs
 * none, and QEMU's linux-user loader reads only the program headers.
 */
final class ElfImage {
    private ElfImage() {
    }

    static final int EHDR_SIZE = 64;
    static final int PHDR_SIZE = 56;
    static final int HEADERS_SIZE = EHDR_SIZE + PHDR_SIZE;

    private static final short ET_EXEC = 2;
    private static final short EM_AARCH64 = 183;
    private static final int PT_LOAD = 1;
    private static final int PF_RWX = 7;

    /**
     * Fills in the headers at the start of {@code image} (whose first {@link #HEADERS_SIZE} bytes are reserved for
     * them) so that it loads at {@code vaddr}, {@code memSize} bytes long (the bytes past the image zero-filled),
     * and starts at {@code entry}.
     */
    static void writeHeaders(byte[] image, long vaddr, long entry, long memSize) {
        ByteBuffer b = ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN);
        // e_ident: magic, ELFCLASS64, ELFDATA2LSB, EV_CURRENT, ELFOSABI_NONE (SYSV).
        b.put(new byte[] {0x7F, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0});
        b.putShort(ET_EXEC).putShort(EM_AARCH64).putInt(1);
        b.putLong(entry).putLong(EHDR_SIZE).putLong(0);           // e_entry, e_phoff, e_shoff
        b.putInt(0);                                              // e_flags
        b.putShort((short) EHDR_SIZE).putShort((short) PHDR_SIZE).putShort((short) 1); // ehsize, phentsize, phnum
        b.putShort((short) 64).putShort((short) 0).putShort((short) 0);                // shentsize, shnum, shstrndx
        b.putInt(PT_LOAD).putInt(PF_RWX);
        b.putLong(0).putLong(vaddr).putLong(vaddr);               // p_offset, p_vaddr, p_paddr
        b.putLong(image.length).putLong(memSize).putLong(0x1_0000); // p_filesz, p_memsz, p_align (64 KiB pages too)
    }
}
