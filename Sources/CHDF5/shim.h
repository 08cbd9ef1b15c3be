#ifndef GRAPE_CHDF5_SHIM_H
#define GRAPE_CHDF5_SHIM_H
#include <hdf5.h>

/* HDF5's type and property-list identifiers are macros over globals that Swift cannot import;
   these functions return them. */
static inline hid_t grape_h5t_native_float(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t grape_h5t_native_double(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t grape_h5t_native_uint8(void) { return H5T_NATIVE_UINT8; }
static inline hid_t grape_h5t_native_uint16(void) { return H5T_NATIVE_UINT16; }
static inline hid_t grape_h5t_native_int32(void) { return H5T_NATIVE_INT32; }
static inline hid_t grape_h5t_native_int64(void) { return H5T_NATIVE_INT64; }
static inline hid_t grape_h5t_native_hbool(void) { return H5T_NATIVE_HBOOL; }
static inline hid_t grape_h5t_ieee_f32le(void) { return H5T_IEEE_F32LE; }
static inline hid_t grape_h5t_std_i32le(void) { return H5T_STD_I32LE; }
static inline hid_t grape_h5t_std_i64le(void) { return H5T_STD_I64LE; }
static inline hid_t grape_h5t_std_u16le(void) { return H5T_STD_U16LE; }
static inline hid_t grape_h5t_std_u8le(void) { return H5T_STD_U8LE; }
static inline hid_t grape_h5t_c_s1(void) { return H5T_C_S1; }
static inline hid_t grape_h5p_dataset_create(void) { return H5P_DATASET_CREATE; }
static inline hid_t grape_h5p_dataset_access(void) { return H5P_DATASET_ACCESS; }
static inline hid_t grape_h5p_file_access(void) { return H5P_FILE_ACCESS; }
static inline hid_t grape_h5p_link_create(void) { return H5P_LINK_CREATE; }
static inline hid_t grape_h5p_group_create(void) { return H5P_GROUP_CREATE; }
static inline hid_t grape_h5p_attribute_create(void) { return H5P_ATTRIBUTE_CREATE; }
static inline unsigned grape_h5f_acc_rdonly(void) { return H5F_ACC_RDONLY; }
static inline unsigned grape_h5f_acc_rdwr(void) { return H5F_ACC_RDWR; }
static inline unsigned grape_h5f_acc_trunc(void) { return H5F_ACC_TRUNC; }
static inline unsigned grape_h5f_acc_excl(void) { return H5F_ACC_EXCL; }
static inline size_t grape_h5t_variable(void) { return H5T_VARIABLE; }
static inline hsize_t grape_h5s_unlimited(void) { return H5S_UNLIMITED; }
#endif
