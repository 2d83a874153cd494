package dev.jvmm.virt;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A flattened device tree (Devicetree Specification v0.4, chapter 5 "Flattened Devicetree (DTB) Format"), as a tree
 * of nodes to build and edit, and its blob: {@link #toBlob} writes version 17 (last compatible version 16), and
 * {@link #parse} reads a blob back (a user's {@code --dtb}, or the tests' round trip).
 *
 * <pre>
 *  header (40 bytes, big-endian)  magic 0xd00dfeed, totalsize, off_dt_struct, off_dt_strings, off_mem_rsvmap,
 *                                 version 17, last_comp_version 16, boot_cpuid_phys, size_dt_strings, size_dt_struct
 *  memory reservation block       (address, size) pairs of u64, ended by (0, 0); this board reserves nothing
 *  structure block                FDT_BEGIN_NODE name\0 (padded to 4) ... FDT_PROP len nameoff value ...
 *                                 FDT_END_NODE ... FDT_END
 *  strings block                  property names, NUL-terminated, shared
 *  free space up to totalsize     (QEMU's trees are 1 MiB; libfdt's in-place edits use this room)
 * </pre>
 *
 * No library of the Java ecosystem that is kept up writes FDTs, and the format is small: this class is the whole of it.
 */
final class Fdt {
    static final int MAGIC = 0xd00dfeed;
    static final int VERSION = 17;
    static final int LAST_COMPATIBLE_VERSION = 16;
    static final int HEADER_SIZE = 40;
    static final int FDT_BEGIN_NODE = 1;
    static final int FDT_END_NODE = 2;
    static final int FDT_PROP = 3;
    static final int FDT_NOP = 4;
    static final int FDT_END = 9;

    private final Node root = new Node("");
    private int nextPhandle;

    /** A tree whose phandles start at {@code firstPhandle} (QEMU's virt starts at 0x8000). */
    Fdt(int firstPhandle) {
        this.nextPhandle = firstPhandle;
    }

    Node root() {
        return root;
    }

    /** A fresh phandle value (the caller sets it with {@link Node#phandle}). */
    int allocatePhandle() {
        return nextPhandle++;
    }

    /** The node at {@code path} ("/", "/chosen", "/intc@8000000/its@8080000"), or null. */
    Node node(String path) {
        if (path.equals("/")) {
            return root;
        }
        Node n = root;
        for (String part : path.substring(1).split("/")) {
            n = n.child(part);
            if (n == null) {
                return null;
            }
        }
        return n;
    }

    /** One node: a name (with its unit address), properties in order, children in order. */
    static final class Node {
        final String name;
        private final Map<String, byte[]> props = new LinkedHashMap<>();
        private final List<Node> children = new ArrayList<>();

        Node(String name) {
            this.name = name;
        }

        /** Adds a child node (at the end) and returns it. */
        Node add(String childName) {
            Node c = new Node(childName);
            children.add(c);
            return c;
        }

        Node child(String childName) {
            for (Node c : children) {
                if (c.name.equals(childName)) {
                    return c;
                }
            }
            return null;
        }

        /** The child whose name is {@code base} or starts with {@code base@}. */
        List<Node> childrenNamed(String base) {
            List<Node> out = new ArrayList<>();
            for (Node c : children) {
                if (c.name.equals(base) || c.name.startsWith(base + "@")) {
                    out.add(c);
                }
            }
            return out;
        }

        boolean remove(Node child) {
            return children.remove(child);
        }

        List<Node> children() {
            return children;
        }

        Map<String, byte[]> properties() {
            return props;
        }

        byte[] get(String prop) {
            return props.get(prop);
        }

        /** A property's raw value (replacing any earlier value of that name, in its place). */
        Node bytes(String prop, byte[] value) {
            props.put(prop, value.clone());
            return this;
        }

        /** An empty property ("interrupt-controller;", "dma-coherent;"). */
        Node empty(String prop) {
            return bytes(prop, new byte[0]);
        }

        /** One or more strings, each NUL-terminated ("arm,pl011\0arm,primecell\0"). */
        Node strings(String prop, String... values) {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            for (String v : values) {
                byte[] s = v.getBytes(StandardCharsets.UTF_8);
                b.write(s, 0, s.length);
                b.write(0);
            }
            return bytes(prop, b.toByteArray());
        }

        /** Big-endian 32-bit cells. */
        Node cells(String prop, int... values) {
            ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.BIG_ENDIAN);
            for (int v : values) {
                b.putInt(v);
            }
            return bytes(prop, b.array());
        }

        /** (address, size) pairs as two cells each, #address-cells = #size-cells = 2 (the virt board's root). */
        Node reg64(long... addressSizePairs) {
            int[] c = new int[addressSizePairs.length * 2];
            for (int i = 0; i < addressSizePairs.length; i++) {
                c[2 * i] = (int) (addressSizePairs[i] >>> 32);
                c[2 * i + 1] = (int) addressSizePairs[i];
            }
            return cells("reg", c);
        }

        Node phandle(int value) {
            return cells("phandle", value);
        }

        @Override
        public String toString() {
            return "Node[" + name + "]";
        }
    }

    // ------------------------------------------------------------------------------------------------ writing

    /**
     * The blob: header, an empty memory reservation block, the structure and strings blocks, and free space up to
     * {@code totalSize} (at least what the blocks need; pass 0 for no free space).
     *
     * @param bootCpuId the header's boot_cpuid_phys (the boot CPU's {@code reg})
     */
    byte[] toBlob(int totalSize, int bootCpuId) {
        ByteArrayOutputStream struct = new ByteArrayOutputStream();
        ByteArrayOutputStream strings = new ByteArrayOutputStream();
        Map<String, Integer> offsets = new HashMap<>();
        writeNode(root, struct, strings, offsets);
        putInt(struct, FDT_END);
        int rsvmapOff = HEADER_SIZE;                         // 8-byte aligned, as the specification asks
        int rsvmapSize = 16;                                 // the terminating (0, 0) entry only
        int structOff = rsvmapOff + rsvmapSize;
        int stringsOff = structOff + struct.size();
        int needed = stringsOff + strings.size();
        int total = Math.max(needed, totalSize);
        ByteBuffer b = ByteBuffer.allocate(total).order(ByteOrder.BIG_ENDIAN);
        b.putInt(MAGIC).putInt(total).putInt(structOff).putInt(stringsOff).putInt(rsvmapOff)
                .putInt(VERSION).putInt(LAST_COMPATIBLE_VERSION).putInt(bootCpuId).putInt(strings.size())
                .putInt(struct.size());
        b.putLong(0).putLong(0);
        b.put(struct.toByteArray());
        b.put(strings.toByteArray());
        return b.array();
    }

    private static void writeNode(Node n, ByteArrayOutputStream out, ByteArrayOutputStream strings,
                                  Map<String, Integer> offsets) {
        putInt(out, FDT_BEGIN_NODE);
        byte[] name = n.name.getBytes(StandardCharsets.UTF_8);
        out.write(name, 0, name.length);
        out.write(0);
        pad(out);
        for (Map.Entry<String, byte[]> p : n.props.entrySet()) {
            Integer off = offsets.get(p.getKey());
            if (off == null) {
                off = strings.size();
                byte[] s = p.getKey().getBytes(StandardCharsets.UTF_8);
                strings.write(s, 0, s.length);
                strings.write(0);
                offsets.put(p.getKey(), off);
            }
            byte[] v = p.getValue();
            putInt(out, FDT_PROP);
            putInt(out, v.length);
            putInt(out, off);
            out.write(v, 0, v.length);
            pad(out);
        }
        for (Node c : n.children) {
            writeNode(c, out, strings, offsets);
        }
        putInt(out, FDT_END_NODE);
    }

    private static void putInt(ByteArrayOutputStream out, int v) {
        out.write(v >>> 24);
        out.write(v >>> 16);
        out.write(v >>> 8);
        out.write(v);
    }

    private static void pad(ByteArrayOutputStream out) {
        while (out.size() % 4 != 0) {
            out.write(0);
        }
    }

    // ------------------------------------------------------------------------------------------------ reading

    /** A blob that is not a device tree this reader accepts, with what is wrong. */
    static final class FormatException extends Exception {
        private static final long serialVersionUID = 1L;

        FormatException(String message) {
            super(message);
        }
    }

    /**
     * Reads a blob (versions 16 and 17): every offset and length is checked against the blob, so a damaged file is
     * a {@link FormatException} with what is wrong, never an exception of the JDK. Phandles of the result continue
     * after the largest one the blob uses.
     */
    static Fdt parse(byte[] blob) throws FormatException {
        if (blob.length < HEADER_SIZE) {
            throw new FormatException("too short for a device tree header (" + blob.length + " bytes)");
        }
        ByteBuffer b = ByteBuffer.wrap(blob).order(ByteOrder.BIG_ENDIAN);
        if (b.getInt(0) != MAGIC) {
            throw new FormatException(String.format("no device tree magic (0x%08x, not 0xd00dfeed)", b.getInt(0)));
        }
        long total = b.getInt(4) & 0xFFFF_FFFFL;
        long structOff = b.getInt(8) & 0xFFFF_FFFFL;
        long stringsOff = b.getInt(12) & 0xFFFF_FFFFL;
        int version = b.getInt(20);
        int lastComp = b.getInt(24);
        long stringsSize = b.getInt(32) & 0xFFFF_FFFFL;
        long structSize = b.getInt(36) & 0xFFFF_FFFFL;
        if (total > blob.length) {
            throw new FormatException("totalsize " + total + " is larger than the file (" + blob.length + " bytes)");
        }
        if (version < LAST_COMPATIBLE_VERSION || lastComp > VERSION) {
            throw new FormatException("version " + version + " (last compatible " + lastComp
                    + ") is not one this board reads (16, 17)");
        }
        if (structOff + structSize > total || stringsOff + stringsSize > total || structOff < HEADER_SIZE
                || (structOff & 3) != 0) {
            throw new FormatException("the structure or strings block lies outside the blob");
        }
        Fdt fdt = new Fdt(1);
        int[] maxPhandle = {0};
        Reader r = new Reader(b, (int) structOff, (int) (structOff + structSize), (int) stringsOff,
                (int) stringsSize);
        int token = r.nextToken();
        if (token != FDT_BEGIN_NODE) {
            throw new FormatException("the structure block does not start with the root node");
        }
        r.name();
        r.readNode(fdt.root, maxPhandle, 0);
        if (r.nextToken() != FDT_END) {
            throw new FormatException("no FDT_END after the root node");
        }
        fdt.nextPhandle = maxPhandle[0] + 1;
        return fdt;
    }

    private static final class Reader {
        private static final int MAX_DEPTH = 64;
        final ByteBuffer b;
        int pos;
        final int end;
        final int stringsOff;
        final int stringsSize;

        Reader(ByteBuffer b, int pos, int end, int stringsOff, int stringsSize) {
            this.b = b;
            this.pos = pos;
            this.end = end;
            this.stringsOff = stringsOff;
            this.stringsSize = stringsSize;
        }

        int nextToken() throws FormatException {
            while (true) {
                int t = u32();
                if (t != FDT_NOP) {
                    return t;
                }
            }
        }

        int u32() throws FormatException {
            if (pos + 4 > end) {
                throw new FormatException("the structure block ends in the middle of a node");
            }
            int v = b.getInt(pos);
            pos += 4;
            return v;
        }

        String name() throws FormatException {
            int start = pos;
            while (pos < end && b.get(pos) != 0) {
                pos++;
            }
            if (pos >= end) {
                throw new FormatException("a node name runs past the structure block");
            }
            String s = new String(b.array(), start, pos - start, StandardCharsets.UTF_8);
            pos = (pos + 4) & ~3;
            return s;
        }

        void readNode(Node node, int[] maxPhandle, int depth) throws FormatException {
            if (depth > MAX_DEPTH) {
                throw new FormatException("nodes nested deeper than " + MAX_DEPTH);
            }
            while (true) {
                int t = nextToken();
                switch (t) {
                    case FDT_PROP: {
                        int len = u32();
                        int nameOff = u32();
                        if (len < 0 || pos + len > end) {
                            throw new FormatException("a property of " + node.name + " runs past the structure block");
                        }
                        if (nameOff < 0 || nameOff >= stringsSize) {
                            throw new FormatException("a property name of " + node.name
                                    + " points outside the strings block");
                        }
                        int s = stringsOff + nameOff;
                        int e = s;
                        while (e < stringsOff + stringsSize && b.get(e) != 0) {
                            e++;
                        }
                        String name = new String(b.array(), s, e - s, StandardCharsets.UTF_8);
                        byte[] v = new byte[len];
                        b.get(pos, v, 0, len);
                        pos = (pos + len + 3) & ~3;
                        node.props.put(name, v);
                        if ((name.equals("phandle") || name.equals("linux,phandle")) && len == 4) {
                            maxPhandle[0] = Math.max(maxPhandle[0], ByteBuffer.wrap(v).getInt());
                        }
                        break;
                    }
                    case FDT_BEGIN_NODE: {
                        Node c = node.add(name());
                        readNode(c, maxPhandle, depth + 1);
                        break;
                    }
                    case FDT_END_NODE:
                        return;
                    default:
                        throw new FormatException(String.format("unknown token 0x%x in node %s", t,
                                node.name.isEmpty() ? "/" : node.name));
                }
            }
        }
    }
}
