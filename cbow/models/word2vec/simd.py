"""The kernels' dot products and row prefetch, written for LLVM directly.

The kernels compile with fastmath off, so LLVM may not reorder a floating-point sum, and numba
leaves LLVM's SLP vectoriser off, so it would not pack independent scalar sums into SIMD
registers either. :func:`dot_row` therefore writes the dot product as eight partial sums held
in one LLVM vector (``<8 x float>``, an intrinsic): the order of every addition is fixed in the
source and the lanes never mix, so the bits are the same on any x86-64 machine, whatever its
vector width. :func:`dot_row_reassociated` (``train.fast_dot``) is one running sum that LLVM may
reorder for the processor's vector width: the same bits run after run on one machine (a resume
there is exact), not across machines.

:func:`prefetch_row` asks the processor to start loading a row into its caches: fastText's
n-gram rows lie anywhere in the buckets (a cache miss each), so the kernels ask for the rows of
the word that enters the windows next while an example trains.
"""
from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

DOT_LANES = 8  # the partial sums of :func:`dot_row` (its final sum is written for 8)
CACHE_LINE = 64  # bytes: x86-64's (and most processors') cache line


@intrinsic
def dot_row(typingctx, vector, matrix, row):
    """``vector . matrix[row]`` (float32, both C-ordered) with :data:`DOT_LANES` partial sums.

    Sum ``k`` adds the products of elements ``k, k + 8, k + 16, ...`` in order; the elements
    past the last multiple of 8 are added to sum 0, one at a time; the result is
    ``((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))``. The eight sums are one LLVM vector
    (``<8 x float>``): one multiply and one add per 8 elements, where scalar code takes eight
    separate ones. Every addition is the one the order above names, in lanes that do not
    mix, so the bits do not depend on how the processor splits the vector (one AVX register,
    two SSE ones, half an AVX-512 one): the same on any x86-64 machine.
    """
    if not (isinstance(vector, types.Array) and vector.ndim == 1 and vector.layout == "C"
            and isinstance(matrix, types.Array) and matrix.ndim == 2 and matrix.layout == "C"
            and vector.dtype == types.float32 and matrix.dtype == types.float32
            and isinstance(row, types.Integer)):
        return None

    def codegen(context, builder, signature, args):
        vector_array = context.make_array(signature.args[0])(context, builder, args[0])
        matrix_array = context.make_array(signature.args[1])(context, builder, args[1])
        row_index = context.cast(builder, args[2], signature.args[2], types.int64)
        a = vector_array.data
        b = builder.gep(matrix_array.data,
                        [builder.mul(row_index, builder.extract_value(matrix_array.shape, 1))])
        n = builder.extract_value(vector_array.shape, 0)
        s = _lane_sums(builder, a, b, n)
        add = builder.fadd
        return add(add(add(s[0], s[1]), add(s[2], s[3])), add(add(s[4], s[5]), add(s[6], s[7])))

    return types.float32(vector, matrix, row), codegen


def _lane_sums(builder, a, b, n) -> list:
    """The eight partial sums of ``a[:n] . b[:n]`` (float pointers) as LLVM values: a vector
    loop over the blocks of 8, then the tail added to sum 0."""
    i32, i64 = ir.IntType(32), ir.IntType(64)
    lanes = ir.VectorType(ir.FloatType(), DOT_LANES)
    width = ir.Constant(i64, DOT_LANES)
    blocks_end = builder.mul(builder.udiv(n, width), width)
    sums = cgutils.alloca_once_value(builder, ir.Constant(lanes, None))  # zeros
    with cgutils.for_range_slice(builder, ir.Constant(i64, 0), blocks_end, width) as (c, _):
        a_block = builder.load(builder.bitcast(builder.gep(a, [c]), lanes.as_pointer()), align=4)
        b_block = builder.load(builder.bitcast(builder.gep(b, [c]), lanes.as_pointer()), align=4)
        builder.store(builder.fadd(builder.load(sums), builder.fmul(a_block, b_block)), sums)
    lane_sums = builder.load(sums)
    s = [builder.extract_element(lane_sums, ir.Constant(i32, k)) for k in range(DOT_LANES)]
    first = cgutils.alloca_once_value(builder, s[0])
    with cgutils.for_range_slice(builder, blocks_end, n, ir.Constant(i64, 1)) as (c, _):
        product = builder.fmul(builder.load(builder.gep(a, [c])), builder.load(builder.gep(b, [c])))
        builder.store(builder.fadd(builder.load(first), product), first)
    s[0] = builder.load(first)
    return s


@njit(nogil=True, fastmath={"reassoc"})
def dot_row_reassociated(vector, matrix, row):
    """``vector . matrix[row]`` in float32, one running sum that LLVM may reorder (``train.
    fast_dot``): it vectorises the loop with as many partial sums as the processor's vector
    width holds, so the bits depend on that width (the same on one machine, run after run)."""
    total = np.float32(0.0)
    for c in range(vector.shape[0]):
        total += vector[c] * matrix[row, c]
    return total


@intrinsic
def prefetch_row(typingctx, matrix, row):
    """Ask the processor to start loading ``matrix[row]`` (a C-ordered 2-D array) into its
    caches: one ``llvm.prefetch`` (read, high locality) per 64-byte line of the row. A hint
    only: no value is read or written, so no result changes, whatever the processor does."""
    if not (isinstance(matrix, types.Array) and matrix.ndim == 2
            and isinstance(row, types.Integer)):
        return None

    def codegen(context, builder, signature, args):
        array = context.make_array(signature.args[0])(context, builder, args[0])
        i64, i32, byte_pointer = ir.IntType(64), ir.IntType(32), ir.IntType(8).as_pointer()
        row_index = context.cast(builder, args[1], signature.args[1], types.int64)
        start = builder.add(builder.ptrtoint(array.data, i64),
                            builder.mul(row_index, builder.extract_value(array.strides, 0)))
        row_bytes = builder.mul(builder.extract_value(array.shape, 1),
                                ir.Constant(i64, signature.args[0].dtype.bitwidth // 8))
        prefetch = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [byte_pointer, i32, i32, i32]),
            "llvm.prefetch.p0i8")  # typed pointers' name; LLVM with opaque ones upgrades it
        with cgutils.for_range_slice(builder, ir.Constant(i64, 0), row_bytes,
                                     ir.Constant(i64, CACHE_LINE)) as (offset, _):
            address = builder.inttoptr(builder.add(start, offset), byte_pointer)
            builder.call(prefetch, [address, ir.Constant(i32, 0), ir.Constant(i32, 3),
                                    ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return types.void(matrix, row), codegen
