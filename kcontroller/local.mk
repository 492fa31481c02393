## kcontroller
