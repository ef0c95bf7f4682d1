/* The compiled part of {{ cookiecutter.__project_slug }}: replace it with your own. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* greeting(word, who) -> "word, who!" */
static PyObject *
greeting(PyObject *module, PyObject *args)
{
    PyObject *word, *who;
    if (!PyArg_ParseTuple(args, "UU:greeting", &word, &who)) {
        return NULL;
    }
    return PyUnicode_FromFormat("%U, %U!", word, who);
}

static PyMethodDef methods[] = {
    {"greeting", greeting, METH_VARARGS, "greeting(word, who) -> 'word, who!'"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_native", "Compiled helpers.", -1, methods,
};

PyMODINIT_FUNC
PyInit__native(void)
{
    return PyModule_Create(&module);
}
