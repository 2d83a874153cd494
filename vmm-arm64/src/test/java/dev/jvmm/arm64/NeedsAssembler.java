package dev.jvmm.arm64;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import org.junit.jupiter.api.condition.EnabledIf;

/** A test class that assembles its guest code: it runs only where {@link Assembler#available()} (binutils). */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@EnabledIf(value = "dev.jvmm.arm64.Assembler#available", disabledReason = "aarch64-linux-gnu-as is not installed")
@interface NeedsAssembler {
}
