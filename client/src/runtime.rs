//! The package build's runtime in place of std (feature `tiny-runtime`): a
//! panic traps at once — what std does on wasm32 with `panic = "abort"`,
//! without formatting a message nobody can read — and memory comes from
//! Talc, a wasm allocator a few kilobytes smaller than std's dlmalloc.

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    core::arch::wasm32::unreachable()
}

#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
