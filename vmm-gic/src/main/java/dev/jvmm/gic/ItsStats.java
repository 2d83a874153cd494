package dev.jvmm.gic;

import java.util.Map;

/**
 * A snapshot of one ITS's counters and queue state.
 *
 * @param index             the ITS's index (its doorbell is {@code MemoryMap.translater(index, vcpus)})
 * @param enabled           GITS_CTLR.Enabled
 * @param stalled           GITS_CREADR.Stalled: a command could not be read from guest memory
 * @param creadr            GITS_CREADR's offset
 * @param cwriter           GITS_CWRITER's offset
 * @param commands          commands executed (successful or not)
 * @param errors            ignored commands by error code (codes that never occurred are absent)
 * @param stalls            times the queue stalled
 * @param translaterWrites  MSIs written to GITS_TRANSLATER through the bus (a vCPU's store as DeviceID 0)
 * @param translaterIgnored writes to the translation frame of a wrong size or offset
 * @param internalErrors    commands that hit a bug of this ITS (must be zero; the command is skipped)
 * @param devices           devices mapped
 * @param translations      interrupt translation entries
 * @param unsupportedAccesses register accesses the frame does not decode (reserved offset, width, alignment): RAZ/WI
 * @param tablesForgotten   times a GITS_BASER write with Valid = 0 dropped the devices or collections it described
 */
public record ItsStats(int index, boolean enabled, boolean stalled, long creadr, long cwriter, long commands,
                       Map<ItsCommandError, Long> errors, long stalls, long translaterWrites, long translaterIgnored,
                       long internalErrors, int devices, int translations,
                       long unsupportedAccesses, long tablesForgotten) {

    public ItsStats {
        errors = Map.copyOf(errors);
    }

    /** How many commands failed with {@code error}. */
    public long errors(ItsCommandError error) {
        Long n = errors.get(error);
        return n == null ? 0 : n;
    }

    /** Failed commands, every code. */
    public long totalErrors() {
        long t = 0;
        for (long n : errors.values()) {
            t += n;
        }
        return t;
    }
}
