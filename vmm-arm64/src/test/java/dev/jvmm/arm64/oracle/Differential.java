package dev.jvmm.arm64.oracle;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * Runs cases on the oracle and on the CPU under test and explains every difference: for a case that ends in a
 * different state, it runs every prefix of the case on both sides (the first k instructions, the rest cut to a
 * branch to the end) and names the first instruction after which the states differ, with its word, disassembly,
 * encoding class, the inputs and both results.
 */
final class Differential {
    /** Mismatching cases explained in detail (bisected); the others are counted. */
    static final int EXPLAINED = 40;

    private final Emulator oracle;
    private final Emulator cpu;
    private final int explainLimit;

    Differential(Emulator oracle, Emulator cpu) {
        this(oracle, cpu, EXPLAINED);
    }

    /** Explains (bisects) at most {@code explainLimit} mismatching cases. */
    Differential(Emulator oracle, Emulator cpu, int explainLimit) {
        this.oracle = oracle;
        this.cpu = cpu;
        this.explainLimit = explainLimit;
    }

    /** A case that ended differently, and the instruction that made the difference (index -1 when not found). */
    record Mismatch(TestCase testCase, int index, List<String> differences) {

        int word() {
            return index < 0 ? 0 : testCase.snippet().body()[index];
        }

        String encodingClass() {
            return index < 0 ? "(not localized)" : testCase.snippet().classes()[index];
        }

        /** The instruction's mnemonic (objdump's first token), or its top 11 bits: what groups mismatches. */
        String mnemonic() {
            if (index < 0) {
                return "?";
            }
            List<String> d = Objdump.disassemble(new int[] {word()}, 0);
            return d == null ? String.format("op %03x", word() >>> 21) : d.get(0).split("[ .]")[0];
        }
    }

    /** Result of a comparison: the mismatches explained and how many cases differed in all. */
    record Result(int cases, int mismatching, List<Mismatch> explained) {

        /** Explained mismatches grouped by (encoding class, mnemonic), first one of each group. */
        Map<String, List<Mismatch>> byClass() {
            Map<String, List<Mismatch>> m = new LinkedHashMap<>();
            for (Mismatch x : explained) {
                m.computeIfAbsent(x.encodingClass() + " / " + x.mnemonic(), k -> new ArrayList<>()).add(x);
            }
            return m;
        }
    }

    /** Compares in chunks of {@code chunk} cases; the oracle runs the next chunk while the CPU runs this one. */
    Result compare(List<TestCase> cases, int chunk) throws Exception {
        List<Integer> bad = new ArrayList<>();
        int n = cases.size();
        CompletableFuture<List<ArchState>> next = oracleAsync(cases.subList(0, Math.min(chunk, n)));
        for (int from = 0; from < n; from += chunk) {
            List<TestCase> part = cases.subList(from, Math.min(from + chunk, n));
            List<ArchState> expected = join(next);
            int nextFrom = from + chunk;
            next = nextFrom < n ? oracleAsync(cases.subList(nextFrom, Math.min(nextFrom + chunk, n))) : null;
            List<ArchState> actual = cpu.run(part);
            for (int i = 0; i < part.size(); i++) {
                if (!expected.get(i).sameAs(actual.get(i))) {
                    bad.add(from + i);
                }
            }
        }
        List<Mismatch> explained = new ArrayList<>();
        for (int i = 0; i < bad.size() && i < explainLimit; i++) {
            explained.add(explain(cases.get(bad.get(i))));
        }
        return new Result(n, bad.size(), explained);
    }

    private CompletableFuture<List<ArchState>> oracleAsync(List<TestCase> part) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return oracle.run(part);
            } catch (Exception e) {
                throw new CompletionException(e);
            }
        });
    }

    private static List<ArchState> join(CompletableFuture<List<ArchState>> f) throws Exception {
        try {
            return f.join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof Exception x ? x : e;
        }
    }

    /** Bisects a mismatching case by running all its prefixes on both sides. */
    Mismatch explain(TestCase c) throws Exception {
        int n = c.snippet().body().length;
        List<TestCase> prefixes = new ArrayList<>(n + 1);
        for (int k = 0; k <= n; k++) {
            prefixes.add(c.prefix(k));
        }
        List<ArchState> expected = oracle.run(prefixes);
        List<ArchState> actual = cpu.run(prefixes);
        for (int k = 0; k <= n; k++) {
            if (!expected.get(k).sameAs(actual.get(k))) {
                return new Mismatch(c, k - 1, expected.get(k).differences(actual.get(k), oracle.name(), cpu.name()));
            }
        }
        List<ArchState> e = oracle.run(List.of(c));
        List<ArchState> a = cpu.run(List.of(c));
        return new Mismatch(c, -1, e.get(0).differences(a.get(0), oracle.name(), cpu.name()));
    }

    /** A report of one mismatch: what a developer needs to reproduce and fix it. */
    static String report(Mismatch m, String replay) {
        TestCase c = m.testCase();
        Snippet s = c.snippet();
        long address = HarnessDescriptor.CODE + Snippet.BODY_OFFSET;
        StringBuilder b = new StringBuilder();
        b.append("MISMATCH in ").append(c.name()).append('\n');
        if (m.index() >= 0) {
            b.append("  first differing instruction: #").append(m.index()).append("  ")
                    .append(Objdump.describe(m.word(), address + 4L * m.index())).append("   [")
                    .append(m.encodingClass()).append("]\n");
        } else {
            b.append("  no prefix differs, only the whole case\n");
        }
        b.append("  after it: ").append(String.join("\n            ", m.differences())).append('\n');
        b.append("  snippet (body at ").append(Long.toHexString(address)).append(" when it is the first case):\n");
        List<String> dis = Objdump.disassemble(s.body(), address);
        for (int i = 0; i < s.body().length; i++) {
            b.append(String.format("   %s%3d  %08x  %-40s [%s]%n", i == m.index() ? ">" : " ", i, s.body()[i],
                    dis == null ? "" : dis.get(i), s.classes()[i]));
        }
        b.append("  inputs:\n    ").append(c.describeInputs().replace("\n", "\n    ")).append('\n');
        b.append("  replay: ").append(replay).append('\n');
        return b.toString();
    }
}
