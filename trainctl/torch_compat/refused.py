"""The ``torch.*`` names trainctl does not have, grouped by the feature they belong to, each group
with what to do instead. :mod:`.unsupported` turns an entry into its one-line error, e.g.
``torch.cholesky (linear algebra) is not supported by trainctl: use numpy.linalg on
tensor.numpy() (no gradient), or tc.matmul/tc.einsum``.

``tests/golden/torch_names.json`` lists every public function, class, submodule and dtype of
torch 2.13; ``tests/test_torch_names.py`` checks that each is implemented or listed here. A name
trainctl implements later simply stops being looked up here (the real one is found first).
"""

from __future__ import annotations

_NUMPY = "compute it with NumPy on tensor.detach().numpy() (no gradient)"

# (what the names are, what to do instead, the names). "{name}" in the advice is the name.
FUNCTION_GROUPS = [
    ("an nn.functional op", "call tc.nn.functional.{name}", """
        adaptive_avg_pool1d adaptive_max_pool1d avg_pool1d batch_norm bilinear
        binary_cross_entropy_with_logits celu conv1d conv2d conv_transpose1d conv_transpose2d
        cosine_embedding_loss dropout embedding group_norm kl_div layer_norm max_pool1d
        max_pool2d selu"""),
    ("a neural-network op trainctl lacks", "build the model from the layers in tc.nn "
     "(docs/nn.md lists them)", """
        affine_grid_generator alpha_dropout alpha_dropout_ celu_ channel_shuffle conv3d
        conv_transpose3d cosine_similarity ctc_loss dropout_ embedding_bag embedding_renorm_
        feature_alpha_dropout feature_alpha_dropout_ feature_dropout feature_dropout_ grid_sampler
        hardshrink hinge_embedding_loss instance_norm margin_ranking_loss max_pool1d_with_indices
        max_pool3d pairwise_distance pdist pixel_shuffle pixel_unshuffle poisson_nll_loss prelu
        rms_norm rrelu rrelu_ selu_ threshold threshold_ triplet_margin_loss constant_pad_nd"""),
    ("a recurrent kernel of PyTorch", "use tc.nn.RNN, tc.nn.LSTM or tc.nn.GRU (or their cells)",
     """
        gru gru_cell lstm lstm_cell rnn_relu rnn_relu_cell rnn_tanh rnn_tanh_cell"""),
    ("an internal kernel of PyTorch", "call the tc.nn.functional op or tc.nn module that does "
     "the same", """
        batch_norm_backward_elemt batch_norm_backward_reduce batch_norm_elemt
        batch_norm_gather_stats batch_norm_gather_stats_with_counts batch_norm_stats
        batch_norm_update_stats convolution conv_tbc cudnn_affine_grid_generator cudnn_batch_norm
        cudnn_convolution cudnn_convolution_add_relu cudnn_convolution_relu
        cudnn_convolution_transpose cudnn_grid_sampler cudnn_is_acceptable grid_sampler_2d
        grid_sampler_3d miopen_batch_norm miopen_convolution miopen_convolution_add_relu
        miopen_convolution_relu miopen_convolution_transpose miopen_ctc_loss
        miopen_depthwise_convolution miopen_rnn mkldnn_adaptive_avg_pool2d mkldnn_convolution
        mkldnn_linear_backward_weights mkldnn_max_pool2d mkldnn_max_pool3d mkldnn_rnn_layer
        native_batch_norm native_channel_shuffle native_dropout native_group_norm
        native_layer_norm native_norm norm_except_dim segment_reduce slice_inverse"""),
    ("quantized tensors", "train and run in float32", """
        choose_qparams_optimized dequantize empty_quantized fake_quantize_per_channel_affine
        fake_quantize_per_tensor_affine fbgemm_linear_fp16_weight
        fbgemm_linear_fp16_weight_fp32_activation fbgemm_linear_int8_weight
        fbgemm_linear_int8_weight_fp32_activation fbgemm_linear_quantize_weight
        fbgemm_pack_gemm_matrix_fp16 fbgemm_pack_quantized_matrix fused_moving_avg_obs_fake_quant
        int_repr q_per_channel_axis q_per_channel_scales q_per_channel_zero_points q_scale
        q_zero_point quantize_per_channel quantize_per_tensor quantize_per_tensor_dynamic
        quantized_batch_norm quantized_gru quantized_gru_cell quantized_lstm quantized_lstm_cell
        quantized_max_pool1d quantized_max_pool2d quantized_max_pool3d quantized_rnn_relu_cell
        quantized_rnn_tanh_cell"""),
    ("sparse tensors", "use dense tensors", """
        ccol_indices_copy col_indices_copy crow_indices_copy dsmm hsmm hspmm indices_copy
        resize_as_sparse_ row_indices_copy saddmm smm sparse_bsc_tensor sparse_bsr_tensor
        sparse_compressed_tensor sparse_coo_tensor sparse_csc_tensor sparse_csr_tensor spmm
        sspaddmm values_copy"""),
    ("complex tensors", "keep the real and imaginary parts in two real tensors", """
        angle complex conj conj_physical conj_physical_ imag is_complex is_conj is_neg polar real
        resolve_conj resolve_neg view_as_complex view_as_complex_copy view_as_real
        view_as_real_copy"""),
    ("linear algebra", "use numpy.linalg on tensor.detach().numpy() (no gradient)", """
        cholesky cholesky_inverse cholesky_solve det eig geqrf inverse lobpcg logdet lstsq lu
        lu_solve lu_unpack matrix_exp matrix_power matrix_rank nuclear_norm orgqr ormqr
        pca_lowrank pinverse qr slogdet solve svd svd_lowrank symeig triangular_solve
        frobenius_norm"""),
    ("a matrix product", "write it with tc.matmul or tc.einsum (addmm(c, a, b) is c + a @ b)",
     """addbmm addmm addmv addmv_ addr baddbmm chain_matmul ger inner kron mv tensordot vdot
        cdist dist trace"""),
    ("signal processing", "use scipy.signal on tensor.detach().numpy() (no gradient)", """
        bartlett_window blackman_window hamming_window hann_window istft kaiser_window stft"""),
    ("automatic mixed precision", "train in float32", """
        autocast_decrement_nesting autocast_increment_nesting clear_autocast_cache
        get_autocast_cpu_dtype get_autocast_dtype get_autocast_gpu_dtype get_autocast_ipu_dtype
        get_autocast_xla_dtype is_autocast_cache_enabled is_autocast_cpu_enabled
        is_autocast_enabled is_autocast_ipu_enabled is_autocast_xla_enabled
        set_autocast_cache_enabled set_autocast_cpu_dtype set_autocast_cpu_enabled
        set_autocast_dtype set_autocast_enabled set_autocast_gpu_dtype set_autocast_ipu_dtype
        set_autocast_ipu_enabled set_autocast_xla_dtype set_autocast_xla_enabled"""),
    ("TorchScript, torch.compile and torch.export", "run the model eagerly, drop the call", """
        classproperty cond fork import_ir_module import_ir_module_from_buffer
        merge_type_from_type_comment parse_ir parse_schema parse_type_comment sym_constrain_range
        sym_constrain_range_for_size sym_float sym_fresh_size sym_int sym_ite sym_max sym_min
        sym_not sym_sqrt sym_sum unify_type_list wait while_loop"""),
    ("a PyTorch build or process setting", "leave it out: trainctl has no such setting", """
        compiled_with_cxx11_abi get_file_path init_num_threads is_vulkan_available
        prepare_multiprocessing_environment profiler_allow_cudagraph_cupti_lazy_reinit_cuda12
        set_flush_denormal thread_safe_generator"""),
    ("thread settings", "set OMP_NUM_THREADS (or OPENBLAS_NUM_THREADS) before Python starts",
     "set_num_threads set_num_interop_threads"),
    ("anomaly detection", "check values with tc.isfinite(x).all() where they may go wrong",
     "is_anomaly_check_nan_enabled is_anomaly_enabled set_anomaly_enabled"),
    ("tensor storages and strides", "work with tensors; tensor.numpy() is the raw array", """
        as_strided as_strided_ as_strided_copy as_strided_scatter empty_permuted empty_strided
        from_file is_storage resize_as_"""),
    ("DLPack exchange", "go through NumPy: tc.from_numpy(numpy.from_dlpack(x)), tensor.numpy()",
     "from_dlpack to_dlpack"),
    ("a random sampler trainctl lacks", "draw with tc.rand/tc.randn/tc.randint (bernoulli(p) is "
     "(tc.rand_like(p) < p).float())", "bernoulli binomial multinomial poisson"),
    ("the copying variant of a view op", "call the view op, then .clone()", """
        alias_copy detach_copy diagonal_copy expand_copy narrow_copy permute_copy select_copy
        slice_copy split_copy split_with_sizes_copy squeeze_copy t_copy transpose_copy
        unbind_copy unfold_copy unsqueeze_copy view_copy"""),
    ("a splitting op trainctl lacks", "use tc.split, tc.chunk or tc.narrow", """
        dsplit hsplit split_with_sizes tensor_split unsafe_chunk unsafe_split
        unsafe_split_with_sizes vsplit"""),
    ("a stacking op trainctl lacks", "use tc.cat or tc.stack", """
        column_stack dstack hstack row_stack vstack"""),
    ("a scatter or index update trainctl lacks", "use tensor.scatter, tc.where, or item "
     "assignment under tc.no_grad()", """
        diagonal_scatter index_add index_copy index_fill index_put index_put_ index_reduce
        masked_scatter put scatter_add scatter_reduce select_scatter slice_scatter"""),
    ("a tensor op trainctl lacks", f"compose it from the tc ops docs/pytorch.md lists, or "
     f"{_NUMPY}", """
        adjoint aminmax argwhere atleast_1d atleast_2d atleast_3d block_diag broadcast_shapes
        broadcast_tensors bucketize can_cast cartesian_prod combinations corrcoef count_nonzero
        cov cross cummax cummin cumprod cumsum cumulative_trapezoid diag diag_embed diagflat
        diagonal diff fill fliplr flipud frexp gradient hash_tensor histc histogram histogramdd
        i0 i0_ igamma igammac is_nonzero is_same_size is_signed isin kthvalue logcumsumexp
        masked_select median mode moveaxis movedim msort nanmean nanmedian nanquantile nansum
        nonzero_static promote_types quantile range renorm repeat_interleave result_type roll
        rot90 scalar_tensor searchsorted select std_mean take take_along_dim trapezoid trapz tril
        tril_indices triu triu_indices typename unique_consecutive unravel_index vander var_mean
        asarray frombuffer addcdiv addcmul"""),
    ("an inference-mode query", "use tc.is_grad_enabled()",
     "is_inference is_inference_mode_enabled"),
    ("the legacy default tensor type", "use tc.set_default_dtype (and tc.set_default_device)",
     "set_default_tensor_type"),
    ("a device, stream or process-group helper", "pass devices explicitly and use tensor.device",
     "get_device get_device_module is_distributed"),
]

CLASS_GROUPS = [
    ("tensor storages", "work with tensors; tensor.numpy() is the raw array", """
        BFloat16Storage BoolStorage ByteStorage CharStorage ComplexDoubleStorage
        ComplexFloatStorage DoubleStorage FloatStorage HalfStorage IntStorage LongStorage
        QInt32Storage QInt8Storage QUInt2x4Storage QUInt4x2Storage QUInt8Storage ShortStorage
        Storage StorageBase TypedStorage UntypedStorage"""),
    ("a legacy tensor type trainctl lacks", "use tc.tensor(data, dtype=...)",
     "BFloat16Tensor CharTensor ShortTensor"),
    ("automatic mixed precision", "train in float32", "GradScaler autocast"),
    ("CUDA streams and events", "let operations run in order; time with time.perf_counter",
     "Event Stream"),
    ("TorchScript, torch.compile and torch.export", "run the model eagerly, drop the call", """
        DisableTorchFunction DisableTorchFunctionSubclass JITException SymBool SymFloat SymInt"""),
    ("an accelerator error", "catch RuntimeError", "AcceleratorError FatalError"),
    ("tensor layouts and memory formats", "leave the argument out: trainctl tensors are "
     "dense and laid out by NumPy", """
        layout memory_format strided sparse_coo sparse_csr sparse_csc sparse_bsr sparse_bsc
        jagged channels_last channels_last_3d contiguous_format preserve_format
        legacy_contiguous_format"""),
    ("quantized tensors", "train and run in float32", """
        qscheme per_channel_affine per_channel_affine_float_qparams per_channel_symmetric
        per_tensor_affine per_tensor_symmetric"""),
]

DTYPE_GROUPS = [
    ("bfloat16", "use tc.float32 (or tc.float16)", "bfloat16"),
    ("complex dtypes", "keep the real and imaginary parts in two real tensors",
     "cdouble cfloat chalf complex128 complex32 complex64"),
    ("8-bit and 4-bit float dtypes", "train in float32", """
        float4_e2m1fn_x2 float8_e4m3fn float8_e4m3fnuz float8_e5m2 float8_e5m2fnuz
        float8_e8m0fnu"""),
    ("unsigned integer dtypes wider than 8 bits", "use tc.int32 or tc.int64",
     "uint16 uint32 uint64"),
    ("sub-byte and bit dtypes", "use tc.int8 or tc.uint8", """
        bit bits16 bits1x8 bits2x4 bits4x2 bits8 int1 int2 int3 int4 int5 int6 int7 uint1 uint2
        uint3 uint4 uint5 uint6 uint7"""),
    ("quantized tensors", "train and run in float32", "qint32 qint8 quint2x4 quint4x2 quint8"),
]


def _flatten(groups, kind: str) -> dict:
    table = {}
    for what, instead, names in groups:
        for name in names.split():
            feature = f"torch.{name} ({what})" if kind != "dtype" else f"the torch.{name} dtype"
            if kind == "dtype" and what != name:
                feature = f"the torch.{name} dtype ({what})"
            table[name] = (feature, instead.format(name=name))
    return table


TORCH_NAMES = (_flatten(FUNCTION_GROUPS, "function") | _flatten(CLASS_GROUPS, "class")
               | _flatten(DTYPE_GROUPS, "dtype"))
